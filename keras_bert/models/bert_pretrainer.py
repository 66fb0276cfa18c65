"""`BertPretrainer`: the encoder with the masked-LM and next-sentence heads."""

import keras

from keras_bert.features import INPUT_NAMES
from keras_bert.layers.masked_lm_head import MaskedLMHead
from keras_bert.losses import GlobalMeanSparseCrossentropy
from keras_bert.models.bert_encoder import BertEncoder
from keras_bert.models.bert_task_model import BertTaskModel, encoder_inputs


@keras.saving.register_keras_serializable(package="keras_bert")
class BertPretrainer(BertTaskModel):
    """BERT's pretraining model: masked LM over chosen positions plus next-sentence prediction.

    The masked-LM head (`MaskedLMHead`) shares the encoder's word embeddings;
    the next-sentence head is a 2-way dense layer on `pooled_output` (label
    0 = IsNext). `compile` defaults to the paper's loss: the mean
    cross-entropy over real masked positions (weighted by
    `masked_lm_weights`) plus the next-sentence cross-entropy, with
    `mlm_accuracy` and `nsp_accuracy` as metrics. The heads' weights go to
    and from checkpoints in Google's names through
    `keras_bert.checkpoints.head_weights` and `load_head_weights`.

    Args:
        encoder: a `BertEncoder`.
        **kwargs: Passed to `keras.Model`.

    Inputs: the encoder's input dict plus `masked_lm_positions`, int32
        `(batch, max_predictions_per_seq)`.

    Outputs: a dict: `mlm` float32 logits `(batch, max_predictions_per_seq,
        vocab_size)` and `nsp` logits `(batch, 2)`.

    Example:
    >>> import numpy as np
    >>> encoder = BertEncoder(vocab_size=23, hidden_size=8, num_layers=1,
    ...                       num_attention_heads=2, intermediate_size=12)
    >>> pretrainer = BertPretrainer(encoder)
    >>> inputs = {"input_word_ids": np.ones((2, 5), "int32"), "input_mask": np.ones((2, 5), "int32"),
    ...           "input_type_ids": np.zeros((2, 5), "int32"),
    ...           "masked_lm_positions": np.array([[1, 2], [3, 0]], "int32")}
    >>> {k: tuple(v.shape) for k, v in pretrainer(inputs).items()}
    {'mlm': (2, 2, 23), 'nsp': (2, 2)}
    """

    def __init__(self, encoder, **kwargs):
        inputs = encoder_inputs()
        inputs["masked_lm_positions"] = keras.Input(shape=(None,), dtype="int32", name="masked_lm_positions")
        outputs = encoder({name: inputs[name] for name in INPUT_NAMES})
        config = encoder.config
        mlm = MaskedLMHead(
            encoder.embeddings,
            activation=config.hidden_act,
            layer_norm_epsilon=config.layer_norm_epsilon,
            initializer_range=config.initializer_range,
            dtype=encoder.dtype_policy,
            name="masked_lm",
        )(outputs["sequence_output"], inputs["masked_lm_positions"])
        nsp = keras.layers.Dense(
            2,
            kernel_initializer=keras.initializers.TruncatedNormal(stddev=config.initializer_range),
            dtype="float32",
            name="nsp",
        )(outputs["pooled_output"])
        super().__init__(inputs, {"mlm": mlm, "nsp": nsp}, encoder, {}, **kwargs)

    @classmethod
    def from_preset(cls, preset, **kwargs):
        """The pretraining model of a release, with its masked-LM and next-sentence heads when it has them.

        Google's releases and Hugging Face `BertForPreTraining` files carry
        the heads (`cls/...`); without them the heads start fresh.

        Example:
        >>> from keras_bert.checkpoints import default_checkpoint_path
        >>> BertPretrainer.from_preset(default_checkpoint_path()).encoder.config.num_layers
        6
        """
        # The checkpoints package imports this module; its file readers are imported when first called.
        from keras_bert.checkpoints.name_table import load_head_weights
        from keras_bert.checkpoints.release_layouts import read_preset_checkpoint

        checkpoint = read_preset_checkpoint(preset)
        pretrainer = cls(BertEncoder.from_checkpoint(checkpoint), **kwargs)
        if checkpoint.heads:
            load_head_weights(pretrainer, checkpoint.heads, checkpoint.source)
        return pretrainer

    def compile(self, optimizer="adam", loss=None, metrics=None, weighted_metrics=None, **kwargs):
        """`keras.Model.compile` with BERT's pretraining loss and metrics as defaults.

        Feed `(inputs, labels, sample_weights)` with labels
        `{"mlm": masked_lm_ids, "nsp": next_sentence_labels}` and weights
        `{"mlm": masked_lm_weights, "nsp": ones}` (as `pretraining_dataset`
        yields them).
        """
        if loss is None:
            loss = {
                # Divided by the number of real predictions (not of slots) in the whole global batch.
                "mlm": GlobalMeanSparseCrossentropy(from_logits=True),
                "nsp": keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            }
        if weighted_metrics is None:
            weighted_metrics = {
                "mlm": [keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
                "nsp": [keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
            }
        super().compile(optimizer=optimizer, loss=loss, metrics=metrics, weighted_metrics=weighted_metrics, **kwargs)
