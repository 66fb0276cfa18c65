"""`BertEncoder`: the BERT network as a functional Keras model."""

import keras

from keras_bert.config import BertConfig
from keras_bert.features import INPUT_NAMES
from keras_bert.layers import BertEmbeddings, BertPooler, TransformerBlock
from keras_bert.models import lora


@keras.saving.register_keras_serializable(package="keras_bert")
class BertEncoder(keras.Model):
    """The bidirectional Transformer encoder of BERT.

    Built from keyword arguments named as the fields of `BertConfig`, or from a
    config with `BertEncoder.from_bert_config(config)`. `dtype` (a Keras dtype
    policy) is passed down to every layer, as keras-hub's backbones do:
    `dtype="mixed_bfloat16"` computes in bfloat16 with float32 variables.
    Without it the layers follow the global policy
    (`keras.mixed_precision.set_global_policy`).

    Args:
        vocab_size, hidden_size, num_layers, num_attention_heads,
        intermediate_size, hidden_act, hidden_dropout_prob,
        attention_probs_dropout_prob, max_position_embeddings,
        type_vocab_size, initializer_range, layer_norm_epsilon: as in
            `BertConfig`, with the same defaults (BERT-Base).
        causal_attention: bool. A left-to-right encoder (`BertConfig`):
            causal self-attention, pooling on the last real token.
            Defaults to `False`.
        gradient_checkpointing: bool. Recompute each Transformer block's
            activations in the backward pass instead of keeping them
            (`TransformerBlock`): longer sequences or bigger batches fit in
            memory, for about a third more compute per training step. Also
            settable later: `encoder.gradient_checkpointing = True` before
            training. Defaults to `False`.
        dense_inference_kernel: how the blocks' bias-only projections run in
            inference (`FusedDense`'s `inference_kernel`): `"auto"`,
            `"matmul"` or `"conv"`. Only speed differs. Defaults to `"auto"`.
        layer_norm_inference_kernel: how the layer norms run in inference
            (`FusedLayerNorm`'s `inference_kernel`): `"auto"`, `"batch_norm"`
            or `"keras"`. Only speed differs, and which converters read the
            graph: `"keras"` gives plain ops that tf2onnx converts.
            Defaults to `"auto"`.
        skip_padding: bool. In inference, the blocks compute only the real
            tokens' rows (`TransformerBlock`): a batch of mixed lengths costs
            its tokens, not `batch_size * seq_length`, and its attention runs
            on groups of similar lengths. Real tokens' outputs
            are the same; padding positions repeat a real token's output
            (meaningless either way). The SavedModel and ONNX exports set it.
            Defaults to `False`.
        dtype: optional Keras dtype policy (or its name) for every layer.
            Defaults to the global policy.
        **kwargs: Passed to `keras.Model` (`name`, ...).

    Inputs (a dict, each int32 `(batch_size, seq_length)`, any
    `seq_length <= max_position_embeddings`):
        input_word_ids: WordPiece ids, `[CLS] A [SEP] B [SEP]` then 0s.
        input_mask: 1 for real tokens, 0 for padding.
        input_type_ids: 0 for `[CLS]`, A and its `[SEP]`; 1 for B and its
            `[SEP]`.

    Outputs (a dict):
        sequence_output: `(batch_size, seq_length, hidden_size)`, the last
            block's output.
        pooled_output: `(batch_size, hidden_size)`, `tanh(dense([CLS]))`.
        encoder_outputs: list of `num_layers` tensors
            `(batch_size, seq_length, hidden_size)`, one per block.

    Example:
    >>> import numpy as np
    >>> encoder = BertEncoder(vocab_size=23, hidden_size=8, num_layers=2,
    ...                       num_attention_heads=2, intermediate_size=12,
    ...                       max_position_embeddings=16)
    >>> inputs = {"input_word_ids": np.ones((3, 7), "int32"),
    ...           "input_mask": np.ones((3, 7), "int32"),
    ...           "input_type_ids": np.zeros((3, 7), "int32")}
    >>> outputs = encoder(inputs)
    >>> tuple(outputs["sequence_output"].shape), tuple(outputs["pooled_output"].shape)
    ((3, 7, 8), (3, 8))
    >>> len(outputs["encoder_outputs"])
    2
    """

    def __init__(
        self,
        vocab_size=30522,
        hidden_size=768,
        num_layers=12,
        num_attention_heads=12,
        intermediate_size=3072,
        hidden_act="gelu",
        hidden_dropout_prob=0.1,
        attention_probs_dropout_prob=0.1,
        max_position_embeddings=512,
        type_vocab_size=2,
        initializer_range=0.02,
        layer_norm_epsilon=1e-12,
        causal_attention=False,
        gradient_checkpointing=False,
        dense_inference_kernel="auto",
        layer_norm_inference_kernel="auto",
        skip_padding=False,
        dtype=None,
        **kwargs,
    ):
        # Validates every value with a message naming the bad field.
        config = BertConfig(
            vocab_size=vocab_size,
            hidden_size=hidden_size,
            num_layers=num_layers,
            num_attention_heads=num_attention_heads,
            intermediate_size=intermediate_size,
            hidden_act=hidden_act,
            hidden_dropout_prob=hidden_dropout_prob,
            attention_probs_dropout_prob=attention_probs_dropout_prob,
            max_position_embeddings=max_position_embeddings,
            type_vocab_size=type_vocab_size,
            initializer_range=initializer_range,
            layer_norm_epsilon=layer_norm_epsilon,
            causal_attention=causal_attention,
        )
        inputs = {
            name: keras.Input(shape=(None,), dtype="int32", name=name)
            for name in INPUT_NAMES
        }
        embeddings = BertEmbeddings(
            vocab_size=vocab_size,
            hidden_size=hidden_size,
            max_position_embeddings=max_position_embeddings,
            type_vocab_size=type_vocab_size,
            dropout=hidden_dropout_prob,
            layer_norm_epsilon=layer_norm_epsilon,
            initializer_range=initializer_range,
            layer_norm_inference_kernel=layer_norm_inference_kernel,
            dtype=dtype,
            name="embeddings",
        )
        x = embeddings(inputs["input_word_ids"], inputs["input_type_ids"])
        encoder_outputs = []
        for i in range(num_layers):
            x = TransformerBlock(
                num_heads=num_attention_heads,
                intermediate_size=intermediate_size,
                activation=hidden_act,
                dropout=hidden_dropout_prob,
                attention_dropout=attention_probs_dropout_prob,
                layer_norm_epsilon=layer_norm_epsilon,
                initializer_range=initializer_range,
                causal=causal_attention,
                dense_inference_kernel=dense_inference_kernel,
                layer_norm_inference_kernel=layer_norm_inference_kernel,
                skip_padding=skip_padding,
                dtype=dtype,
                name=f"transformer_layer_{i}",
            )(x, padding_mask=inputs["input_mask"])
            encoder_outputs.append(x)
        pooled = BertPooler(
            hidden_size,
            initializer_range=initializer_range,
            pooled_token="last" if causal_attention else "first",
            dtype=dtype,
            name="pooler",
        )(x, padding_mask=inputs["input_mask"])
        outputs = {
            "sequence_output": x,
            "pooled_output": pooled,
            "encoder_outputs": encoder_outputs,
        }
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)
        if dtype is not None:
            self.dtype_policy = keras.dtype_policies.get(dtype)
        self.config = config
        self.dense_inference_kernel = dense_inference_kernel
        self.layer_norm_inference_kernel = layer_norm_inference_kernel
        self.skip_padding = skip_padding
        self.embeddings = embeddings
        self.gradient_checkpointing = gradient_checkpointing
        self.lora_settings = None  # {"rank", "alpha", "target"} once `enable_lora` is called
        self.quantization = None  # "int8" once `quantize` is called

    @property
    def gradient_checkpointing(self):
        """Whether the blocks recompute activations in the backward pass."""
        return self._gradient_checkpointing

    @gradient_checkpointing.setter
    def gradient_checkpointing(self, value):
        # Read when a training step is traced: set it before `fit`.
        self._gradient_checkpointing = bool(value)
        for layer in self.layers:
            if isinstance(layer, TransformerBlock):
                layer.gradient_checkpointing = self._gradient_checkpointing

    def enable_lora(self, rank, alpha=None, target=("query", "value")):
        """Freezes the encoder and adds trainable LoRA pairs to the `target` projections of every block.

        Only the pairs train (and a task head built on the encoder); a
        merged copy (`BertTaskModel.with_encoder_settings`, the exporters,
        a saved `.keras` file) is a plain encoder again. See
        `keras_bert.models.lora`.

        Args:
            rank: int. The low-rank pairs' inner width.
            alpha: optional float; the update is scaled by `alpha / rank`.
                Defaults to `rank`.
            target: projection names among `"query"`, `"key"`, `"value"`,
                `"attention_output"`, `"intermediate_dense"`,
                `"output_dense"`. Defaults to `("query", "value")`.

        Example:
        >>> import numpy as np
        >>> encoder = BertEncoder(vocab_size=23, hidden_size=8, num_layers=2,
        ...                       num_attention_heads=2, intermediate_size=12)
        >>> encoder.enable_lora(rank=2)
        >>> sum(int(np.prod(v.shape)) for v in encoder.trainable_weights)  # 2 blocks x 2 x (8x2 + 2x8)
        128
        """
        lora.enable_lora(self, rank, alpha, target)

    def quantize(self, mode=None, config=None, **kwargs):
        """Quantizes the six projections of every block to int8 (Keras' int8: one scale per output unit).

        What `export_saved_model(..., precision="int8")` serves. In
        inference on a oneDNN CPU each projection is then one int8 oneDNN
        kernel with its activations quantized per batch
        (`layers.int8_kernels`); elsewhere, and in training, Keras' int8
        matmul. Embeddings, layer norms, attention scores, the pooler and
        task heads stay in floating point.

        Args:
            mode: `"int8"`, the one mode supported (Keras' default int8
                configuration; `config` is not read).

        Example:
        >>> encoder = BertEncoder(vocab_size=23, hidden_size=8, num_layers=1,
        ...                       num_attention_heads=2, intermediate_size=12)
        >>> encoder.quantize("int8")
        >>> encoder.get_layer("transformer_layer_0").intermediate_dense.quantization_mode
        'int8'
        """
        # Keras' wrapper resolves `mode` into a default `config`; the kernels need its defaults.
        if mode != "int8" or kwargs.get("filters") is not None:
            raise ValueError(f"BertEncoder.quantize takes mode='int8' alone; got mode={mode!r}"
                             + (" and filters" if kwargs.get("filters") is not None else "") + ".")
        if self.lora_settings:
            raise ValueError("Quantize a merged copy, not a model with LoRA enabled: "
                             "model.with_encoder_settings() folds the adapters in.")
        for layer in lora.projection_layers(self):
            if layer.quantization_mode is None:
                layer.quantize("int8", type_check=False)  # Keras refuses subclasses unless asked
        self.quantization = mode

    @property
    def word_embeddings(self):
        """The `(vocab_size, hidden_size)` word-embedding variable, for tying."""
        return self.embeddings.word_embeddings.embeddings

    @classmethod
    def from_bert_config(cls, config, **kwargs):
        """Builds an encoder from a `BertConfig`."""
        return cls(**config.to_dict(), **kwargs)

    @classmethod
    def from_preset(cls, preset, **kwargs):
        """An encoder holding a released checkpoint's weights, by preset name or location.

        Args:
            preset: str. A preset name (`keras_bert.presets.list_presets()`),
                `hf://owner/name[@revision]`, an `http(s)://` URL, a `gs://`
                path, or a local directory in Google's or Hugging Face's
                layout. Remote files are downloaded once into the cache.
            **kwargs: other constructor arguments (`dtype`,
                `gradient_checkpointing`, ...).

        Example: a local directory (a name such as `"bert_base_en_uncased"`
        is downloaded first).

        >>> from keras_bert.checkpoints import default_checkpoint_path
        >>> encoder = BertEncoder.from_preset(default_checkpoint_path())
        >>> encoder.config.num_layers, encoder.config.hidden_size
        (6, 384)
        """
        # The checkpoints package imports this module; its file readers are imported when first called.
        from keras_bert.checkpoints.release_layouts import read_preset_checkpoint

        return cls.from_checkpoint(read_preset_checkpoint(preset), **kwargs)

    @classmethod
    def from_checkpoint(cls, checkpoint, **kwargs):
        """An encoder built from a read `BertCheckpoint`'s config, holding its weights.

        Variables the encoder does not use are logged by name. Call it inside a
        `tf.distribute` strategy's scope to place the encoder there.

        Example:
        >>> import tempfile
        >>> from keras_bert import read_checkpoint, save_tf1_checkpoint
        >>> directory = tempfile.mkdtemp()
        >>> _ = save_tf1_checkpoint(BertEncoder(vocab_size=23, hidden_size=8, num_layers=1,
        ...     num_attention_heads=2, intermediate_size=12), directory)
        >>> BertEncoder.from_checkpoint(read_checkpoint(directory)).config.num_layers
        1
        """
        from keras_bert.checkpoints.bert_checkpoint import assign_checkpoint

        return assign_checkpoint(cls.from_bert_config(checkpoint.config, **kwargs), checkpoint)

    def get_config(self):
        # Our constructor arguments only: a functional config would not
        # rebuild this subclass.
        return {
            "name": self.name,
            "trainable": self.trainable,
            "gradient_checkpointing": self.gradient_checkpointing,
            "dense_inference_kernel": self.dense_inference_kernel,
            "layer_norm_inference_kernel": self.layer_norm_inference_kernel,
            "skip_padding": self.skip_padding,
            "dtype": keras.dtype_policies.serialize(self.dtype_policy),
            **self.config.to_dict(),
            **({"quantization": self.quantization} if self.quantization else {}),
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        quantization = config.pop("quantization", None)
        encoder = cls(**config)
        if quantization:  # the int8 variables, before Keras loads weights into them
            encoder.quantize(quantization)
        return encoder

