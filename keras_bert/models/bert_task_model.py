"""`BertTaskModel`: the one base class of the task models built on a `BertEncoder`."""

import keras
import tensorflow as tf

from keras_bert.features import INPUT_NAMES
from keras_bert.models import lora
from keras_bert.models.bert_encoder import BertEncoder
from keras_bert.private_apis import model_distribute_strategy


def encoder_inputs(shape=(None,)):
    """Symbolic int32 inputs named as the encoder's, each `(batch,) + shape`."""
    return {name: keras.Input(shape=shape, dtype="int32", name=name) for name in INPUT_NAMES}


class BertTaskModel(keras.Model):
    """A functional model over a `BertEncoder`, saved by its constructor arguments.

    Subclasses build their graph, then call
    `super().__init__(inputs, outputs, encoder, {arg: value, ...})` with every
    constructor argument except the encoder. Each becomes an attribute and a
    `get_config` key; the encoder is serialized whole, so a `.keras` file
    restores the task model with its encoder.
    """

    # Token-level heads (tagging, spans) read only `sequence_output`; they
    # set this False so the encoder's pooler, which gets no gradient from
    # their loss, is left out of training instead of warning on every fit.
    uses_pooled_output = True

    def __init__(self, inputs, outputs, encoder, arguments, **kwargs):
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)
        self.encoder = encoder
        self._arguments = dict(arguments)
        for name, value in arguments.items():
            setattr(self, name, value)

    def _unused_weights(self):
        if self.uses_pooled_output:
            return set()
        return {id(v) for v in self.encoder.get_layer("pooler").weights}

    @property
    def trainable_weights(self):
        unused = self._unused_weights()
        return [v for v in super().trainable_weights if id(v) not in unused]

    @property
    def trainable_variables(self):
        return self.trainable_weights

    @property
    def non_trainable_weights(self):
        trainable = {id(v) for v in self.trainable_weights}
        return [v for v in self.weights if id(v) not in trainable]

    @property
    def non_trainable_variables(self):
        trainable = {id(v) for v in self.trainable_variables}
        return [v for v in self.variables if id(v) not in trainable]

    def get_config(self):
        return {
            "name": self.name,
            "trainable": self.trainable,
            "encoder": keras.saving.serialize_keras_object(self.encoder),
            **self._arguments,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["encoder"] = keras.saving.deserialize_keras_object(config["encoder"])
        return cls(**config)

    @classmethod
    def from_preset(cls, preset, **kwargs):
        """This task model on a released checkpoint's encoder; its head starts from a fresh initialisation.

        Args:
            preset: str. What `BertEncoder.from_preset` takes: a preset name,
                `hf://owner/name`, a URL, a `gs://` path or a local directory.
            **kwargs: the task model's other constructor arguments.

        Example (`"bert_base_en_uncased"` in place of the local directory
        downloads BERT-Base once):

        >>> from keras_bert.checkpoints import default_checkpoint_path
        >>> from keras_bert.models import BertClassifier
        >>> model = BertClassifier.from_preset(default_checkpoint_path(), num_classes=2)
        >>> model.encoder.config.num_layers, model.output_shape
        (6, (None, 2))
        """
        return cls(BertEncoder.from_preset(preset), **kwargs)

    def with_encoder_settings(self, **settings):
        """A new model of this class and weights whose encoder takes these constructor arguments.

        The heads follow the encoder's dtype policy, so
        `model.with_encoder_settings(dtype="mixed_bfloat16")` is the whole
        model computing in bfloat16.

        Example:
        >>> from keras_bert.models import BertClassifier, BertEncoder
        >>> encoder = BertEncoder(vocab_size=23, hidden_size=8, num_layers=1,
        ...                       num_attention_heads=2, intermediate_size=12)
        >>> copy = BertClassifier(encoder, 2).with_encoder_settings(dtype="mixed_bfloat16")
        >>> copy.encoder.dtype_policy.name, copy.get_layer("dropout").compute_dtype
        ('mixed_bfloat16', 'bfloat16')
        """
        config = self.get_config()
        config["encoder"]["config"].update(settings)
        copy = type(self).from_config(config)
        copy.set_weights(lora.merged_weights(self))  # LoRA pairs folded into the copy's plain kernels
        return copy

    def enable_lora(self, rank, alpha=None, target=("query", "value")):
        """LoRA on the encoder (`BertEncoder.enable_lora`); the task head stays trainable.

        Example:
        >>> from keras_bert.models import BertClassifier, BertEncoder
        >>> encoder = BertEncoder(vocab_size=23, hidden_size=8, num_layers=1,
        ...                       num_attention_heads=2, intermediate_size=12)
        >>> model = BertClassifier(encoder, 2)
        >>> model.enable_lora(rank=2)
        >>> sorted(v.path for v in model.trainable_weights)[:3]
        ['logits/bias', 'logits/kernel', 'transformer_layer_0/self_attention/query/lora_kernel_a']
        """
        self.encoder.enable_lora(rank, alpha, target)

    def save_lora_weights(self, path):
        """Saves the LoRA pairs and the task head (all that LoRA training changes) to a small `.npz` file.

        `load_lora_weights` on the same task model, built from the same
        base checkpoint, restores the fine-tuned model.

        Example:
        >>> import tempfile
        >>> from keras_bert.models import BertClassifier, BertEncoder
        >>> def classifier():
        ...     return BertClassifier(BertEncoder(vocab_size=23, hidden_size=8, num_layers=1,
        ...                                       num_attention_heads=2, intermediate_size=12), 2)
        >>> model = classifier()
        >>> model.enable_lora(rank=2)
        >>> path = model.save_lora_weights(tempfile.mkdtemp() + "/adapter.npz")
        >>> restored = classifier().load_lora_weights(path)
        >>> restored.encoder.lora_settings
        {'rank': 2, 'alpha': 2, 'target': ['query', 'value']}
        """
        return lora.save_lora_weights(self, path)

    def load_lora_weights(self, path):
        """Loads `save_lora_weights`' file, enabling LoRA as it was saved if it is off; returns the model."""
        return lora.load_lora_weights(self, path)

    # A private Keras hook (listed, and checked, in `keras_bert.private_apis`).
    def _maybe_symbolic_build(self, iterator=None, data_batch=None):
        # Under a strategy, Keras 3 builds the metrics from a first batch it
        # takes from the training iterator, which then trains from the second
        # batch: each fit() call under Mirrored or MultiWorkerMirrored would
        # skip one batch that one device trains on (and a resumed run would
        # skip one more). The build needs only shapes and dtypes, so it gets
        # the dataset's element spec instead (one replica's, as Keras would
        # average the per-replica batch; MultiWorkerMirrored rejects that for
        # dict inputs).
        if iterator is not None and model_distribute_strategy(self) is not None:
            data_batch = iterator.data_adapter.get_tf_dataset().element_spec
            iterator = None
        return super()._maybe_symbolic_build(iterator=iterator, data_batch=data_batch)

    def train_step(self, data):
        return _as_vectors_across_workers(self.distribute_strategy, super().train_step(data))

    def test_step(self, data):
        return _as_vectors_across_workers(self.distribute_strategy, super().test_step(data))


def _as_vectors_across_workers(strategy, logs):
    """Shapes scalar logs `(1,)` when several workers train together.

    Keras 3 averages each replica's logs across workers with
    `strategy.reduce("MEAN", value, axis=0)`, which fails on scalars
    ("Invalid reduction dimension 0", tensorflow/tensorflow#72388); on
    `(1,)` vectors it gives the intended scalar mean.
    """
    if isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy) and _num_workers(strategy) > 1:
        return {name: tf.reshape(value, [1]) for name, value in logs.items()}
    return logs


def _num_workers(strategy):
    """The cluster's chief and worker tasks; 1 without a cluster (a single-process strategy)."""
    jobs = strategy.cluster_resolver.cluster_spec().as_dict() if strategy.cluster_resolver else {}
    return max(1, len(jobs.get("chief", [])) + len(jobs.get("worker", [])))
