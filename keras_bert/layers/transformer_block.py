"""`TransformerBlock`: BERT's post-LayerNorm Transformer encoder block."""

import keras
import tensorflow as tf

from keras_bert.layers.cpu_kernels import DENSE_KERNELS, LAYER_NORM_KERNELS, check_kernel
from keras_bert.layers.dropout import seed_states
from keras_bert.layers.fused_dense import ACTIVATIONS, FusedDense
from keras_bert.layers.fused_layer_norm import FusedLayerNorm
from keras_bert.layers.self_attention import SelfAttention, attention_bias, length_groups, packed_rows

# With skip_padding, the attention runs on this many groups of similar-length sequences: on SST-2 batches of 32,
# two were as fast as four and faster than one or eight (reports/serving.md).
_LENGTH_GROUPS = 2


@keras.saving.register_keras_serializable(package="keras_bert")
class TransformerBlock(keras.layers.Layer):
    """Post-norm encoder block: self-attention, then a feed-forward net.

    Each sub-block adds its input back, then layer-normalizes (BERT layout):
    `x = LN(x + Attention(x))`, then `x = LN(x + FFN(x))`.

    It reads as the paper: `SelfAttention` (with its residual), a
    `FusedLayerNorm`, the feed-forward `FusedDense` pair (the second with its
    residual), a `FusedLayerNorm`. The block computes on 2-D rows
    `(batch * seq, hidden)`, where each projection with its bias, activation
    or residual is one oneDNN kernel and each layer norm another (see those
    layers). Checkpoints map to the sublayers' names: `self_attention/query`,
    `.../key`, `.../value`, `.../attention_output`, `attention_layer_norm`,
    `intermediate_dense`, `output_dense`, `output_layer_norm`.

    Args:
        num_heads: int. Number of attention heads; must divide the input width.
        intermediate_size: int. Width of the hidden feed-forward projection.
        activation: str. Feed-forward activation: `"gelu"` (exact erf),
            `"gelu_tanh"`, `"relu"` or `"tanh"`. Defaults to `"gelu"`.
        dropout: float. Rate for sub-block outputs. Defaults to `0.1`.
        attention_dropout: float. Rate for attention probabilities.
            Defaults to `0.1`.
        layer_norm_epsilon: float. Defaults to `1e-12`.
        initializer_range: float. Stddev of the truncated-normal initializer.
            Defaults to `0.02`.
        gradient_checkpointing: bool. Keep only the block's input for the
            backward pass and recompute the rest there (`tf.recompute_grad`):
            less memory for about one more forward pass. Dropout masks are
            recomputed identically. Defaults to `False`.
        causal: bool. Each position attends only to itself and earlier
            positions (left-to-right), on top of the padding mask.
            Defaults to `False` (BERT's bidirectional attention).
        dense_inference_kernel: the `inference_kernel` of the bias-only
            projections (`FusedDense`): `"auto"`, `"matmul"` or `"conv"`.
            Defaults to `"auto"`.
        layer_norm_inference_kernel: the `inference_kernel` of the layer
            norms (`FusedLayerNorm`): `"auto"`, `"batch_norm"` or `"keras"`
            (Keras' own ops, which converters such as tf2onnx read).
            Defaults to `"auto"`.
        skip_padding: bool. In inference with a `padding_mask`, project and
            feed forward only the real tokens' rows, so a batch of mixed
            lengths costs its tokens rather than `batch * longest`, and run
            the attention on two groups of similar-length sequences, each
            padded to its own longest (`length_groups`). The real tokens'
            outputs are the same; padding positions repeat a real token's
            output (their values mean nothing either way).
            Defaults to `False` (every position computed, as in training).
        **kwargs: Passed to `keras.layers.Layer` (`name`, `dtype`, ...).

    Call arguments:
        x: float tensor `(batch_size, seq_length, hidden_size)`.
        padding_mask: optional int/bool tensor `(batch_size, seq_length)`,
            1 for real tokens, 0 for padding. Padding is never attended to.
        training: bool. Enables dropout.

    Returns:
        Float tensor shaped like `x`.

    Raises:
        ValueError: in `build`, if `hidden_size % num_heads != 0`.

    Example:
    >>> import numpy as np
    >>> block = TransformerBlock(num_heads=2, intermediate_size=12)
    >>> x = np.zeros((3, 7, 8), "float32")
    >>> tuple(block(x, padding_mask=np.ones((3, 7), "int32")).shape)
    (3, 7, 8)
    """

    def __init__(
        self,
        num_heads,
        intermediate_size,
        activation="gelu",
        dropout=0.1,
        attention_dropout=0.1,
        layer_norm_epsilon=1e-12,
        initializer_range=0.02,
        gradient_checkpointing=False,
        causal=False,
        dense_inference_kernel="auto",
        layer_norm_inference_kernel="auto",
        skip_padding=False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if activation not in ACTIVATIONS:
            raise ValueError(
                f"activation={activation!r} is not supported; use one of "
                f"{sorted(ACTIVATIONS)}."
            )
        self.num_heads = num_heads
        self.intermediate_size = intermediate_size
        self.activation = activation
        self.dropout = dropout
        self.attention_dropout = attention_dropout
        self.layer_norm_epsilon = layer_norm_epsilon
        self.initializer_range = initializer_range
        self.gradient_checkpointing = gradient_checkpointing
        self.causal = causal
        self.dense_inference_kernel = check_kernel(dense_inference_kernel, DENSE_KERNELS, "dense_inference_kernel")
        self.layer_norm_inference_kernel = check_kernel(layer_norm_inference_kernel, LAYER_NORM_KERNELS,
                                                        "layer_norm_inference_kernel")
        self.skip_padding = skip_padding

    def build(self, x_shape, padding_mask_shape=None):
        hidden_size = x_shape[-1]
        self.hidden_size = hidden_size
        rows = (None, hidden_size)

        def initializer():
            # One per layer: an unseeded Keras 3 initializer draws the same values at every call.
            return keras.initializers.TruncatedNormal(stddev=self.initializer_range)

        def dense(units, name, activation=None, dropout=0.0):
            return FusedDense(units, activation=activation, dropout=dropout, kernel_initializer=initializer(),
                              inference_kernel=self.dense_inference_kernel, dtype=self.dtype_policy, name=name)

        def layer_norm(name):
            return FusedLayerNorm(epsilon=self.layer_norm_epsilon, inference_kernel=self.layer_norm_inference_kernel,
                                  dtype=self.dtype_policy, name=name)

        self.self_attention = SelfAttention(
            self.num_heads, dropout=self.dropout, attention_dropout=self.attention_dropout,
            kernel_initializer=initializer(), inference_kernel=self.dense_inference_kernel,
            dtype=self.dtype_policy, name="self_attention",
        )
        self.self_attention.build(rows)  # raises if num_heads does not divide hidden_size
        self.attention_layer_norm = layer_norm("attention_layer_norm")
        self.attention_layer_norm.build(rows)
        self.intermediate_dense = dense(self.intermediate_size, "intermediate_dense", self.activation)
        self.intermediate_dense.build(rows)
        self.output_dense = dense(hidden_size, "output_dense", dropout=self.dropout)
        self.output_dense.build((None, self.intermediate_size))
        self.output_layer_norm = layer_norm("output_layer_norm")
        self.output_layer_norm.build(rows)
        self.built = True

    def call(self, x, padding_mask=None, training=None):
        if not (self.gradient_checkpointing and training):
            return self._forward(x, padding_mask, training)
        # Keras' own RematScope passes keyword arguments to
        # tf.custom_gradient, which graph mode rejects; and a recomputed
        # dropout would draw new masks. So: positional tensors only, and the
        # dropout seed states go in as inputs and are rewound before each run.
        states = self.self_attention.seed_states() + seed_states(self.output_dense.dropout_layer)
        if padding_mask is None:
            padding_mask = keras.ops.ones(keras.ops.shape(x)[:2], "int32")

        def forward(x, padding_mask, *values):
            for variable, value in zip(states, values):
                variable.assign(value)
            return self._forward(x, padding_mask, training=True)

        return tf.recompute_grad(forward)(x, padding_mask, *[tf.identity(v.value) for v in states])

    def _forward(self, x, padding_mask, training):
        """The paper's block: attention, add & norm, feed-forward, add & norm (on 2-D rows)."""
        batch_size, seq_length = tf.shape(x)[0], tf.shape(x)[1]
        x = tf.reshape(tf.cast(x, self.compute_dtype), [-1, self.hidden_size])
        bias = groups = padded_rows = None
        if self.skip_padding and padding_mask is not None and not training:
            token_rows, padded_rows = packed_rows(padding_mask)
            x = tf.gather(x, token_rows)
            groups = length_groups(padding_mask, _LENGTH_GROUPS, self.causal, self.compute_dtype)
        else:
            bias = attention_bias(padding_mask, seq_length, self.causal, self.compute_dtype)
        x = self.attention_layer_norm(
            self.self_attention(x, bias, seq_length, residual=x, groups=groups, training=training),
            training=training)
        hidden = self.intermediate_dense(x, training=training)
        x = self.output_layer_norm(self.output_dense(hidden, residual=x, training=training), training=training)
        if padded_rows is not None:  # back in place; padding rows repeat a real one
            x = tf.gather(x, padded_rows)
        return tf.reshape(x, [batch_size, seq_length, self.hidden_size])

    def compute_output_shape(self, x_shape, padding_mask_shape=None):
        return x_shape

    def get_config(self):
        config = super().get_config()
        config.update(
            num_heads=self.num_heads,
            intermediate_size=self.intermediate_size,
            activation=self.activation,
            dropout=self.dropout,
            attention_dropout=self.attention_dropout,
            layer_norm_epsilon=self.layer_norm_epsilon,
            initializer_range=self.initializer_range,
            gradient_checkpointing=self.gradient_checkpointing,
            causal=self.causal,
            dense_inference_kernel=self.dense_inference_kernel,
            layer_norm_inference_kernel=self.layer_norm_inference_kernel,
            skip_padding=self.skip_padding,
        )
        return config
