"""`SelfAttention`: BERT's multi-head self-attention, with its output projection."""

import keras
import tensorflow as tf

from keras_bert.layers.dropout import Dropout, seed_states
from keras_bert.layers.fused_dense import FusedDense


@keras.saving.register_keras_serializable(package="keras_bert")
class SelfAttention(keras.layers.Layer):
    """Multi-head scaled dot-product self-attention over rows of a batch of sequences.

    `dropout(softmax(Q K^T / sqrt(d) + bias)) V`, heads concatenated, then
    the output projection with dropout, plus an optional residual (added
    inside the projection's kernel in inference; see `FusedDense`). The four
    projections are `FusedDense` layers named `query`, `key`, `value` and
    `attention_output` (the names checkpoints map to), each a
    `(hidden, hidden)` kernel.

    Args:
        num_heads: int. Must divide the input width.
        dropout: float. Rate for the output projection. Defaults to `0.1`.
        attention_dropout: float. Rate for the attention probabilities.
            Defaults to `0.1`.
        kernel_initializer: initializer of the four kernels.
        inference_kernel: `FusedDense`'s setting for the projections.
            Defaults to `"auto"`.
        **kwargs: Passed to `keras.layers.Layer` (`name`, `dtype`, ...).

    Call arguments:
        rows: float tensor `(batch_size * seq_length, hidden)`: the sequences'
            rows, each sequence's `seq_length` rows in a block.
        attention_bias: optional float tensor broadcastable to
            `(batch_size, num_heads, seq_length, seq_length)`, added to the
            scores (large negative values mask keys out).
        seq_length: int scalar tensor. Rows per sequence.
        residual: optional tensor shaped like `rows`, added to the output.
        token_rows: optional int `(num_tokens,)`: `rows` holds only these
            rows of the `batch_size * seq_length` (the real tokens', see
            `TransformerBlock`'s `skip_padding`). The projections run on them
            alone; the attention places them in their sequences, and the
            output holds those rows. The other rows must be masked out as
            keys by `attention_bias`.
        padded_rows: int `(batch_size * seq_length,)`, with `token_rows`:
            each padded row's row in `rows` (any row for padding, which
            `attention_bias` masks). `packed_rows` gives both.
        training: bool. Enables dropout.

    Returns:
        `(batch_size * seq_length, hidden)` tensor of the compute dtype, or
        `(num_tokens, hidden)` with `token_rows`.

    Example:
    >>> import numpy as np
    >>> attention = SelfAttention(num_heads=2)
    >>> rows = np.random.default_rng(0).normal(size=(3 * 5, 8)).astype("float32")
    >>> tuple(attention(rows, seq_length=5).shape)
    (15, 8)
    """

    def __init__(self, num_heads, dropout=0.1, attention_dropout=0.1, kernel_initializer="glorot_uniform",
                 inference_kernel="auto", **kwargs):
        super().__init__(**kwargs)
        self.num_heads = num_heads
        self.dropout = dropout
        self.attention_dropout = attention_dropout
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.inference_kernel = inference_kernel
        self.probs_dropout = Dropout(attention_dropout, dtype=self.dtype_policy, name="probs_dropout")

    def build(self, rows_shape, attention_bias_shape=None):
        width = rows_shape[-1]
        if width % self.num_heads:
            raise ValueError(
                f"The input width {width} is not divisible by num_heads={self.num_heads}; "
                "use a number of heads that divides it."
            )

        def projection(name, dropout=0.0):
            # A copy per projection: an unseeded Keras 3 initializer draws the same values at every call.
            initializer = keras.initializers.get(keras.initializers.serialize(self.kernel_initializer))
            layer = FusedDense(width, dropout=dropout, kernel_initializer=initializer,
                               inference_kernel=self.inference_kernel, dtype=self.dtype_policy, name=name)
            layer.build(rows_shape)
            return layer

        self.query = projection("query")
        self.key = projection("key")
        self.value = projection("value")
        self.attention_output = projection("attention_output", self.dropout)

    def call(self, rows, attention_bias=None, seq_length=None, residual=None, token_rows=None, padded_rows=None,
             training=None):
        width = rows.shape[-1]
        head_size = width // self.num_heads
        seq_length = tf.shape(rows)[0] if seq_length is None else seq_length

        def heads(projection):  # (batch * seq, width) -> (batch, heads, seq, head_size)
            projected = projection(rows, training=training)
            if token_rows is not None:  # the tokens' rows into place; padding rows are masked keys, any values do
                projected = tf.gather(projected, padded_rows)
            projected = tf.reshape(projected, [-1, seq_length, self.num_heads, head_size])
            return tf.transpose(projected, [0, 2, 1, 3])

        # As Keras' MultiHeadAttention: the query is scaled before the product.
        query = heads(self.query) * tf.cast(head_size**-0.5, self.compute_dtype)
        scores = tf.matmul(query, heads(self.key), transpose_b=True)
        if attention_bias is not None:
            scores += tf.cast(attention_bias, scores.dtype)
        probs = self.probs_dropout(tf.nn.softmax(scores), training=training)
        context = tf.matmul(probs, heads(self.value))
        context = tf.reshape(tf.transpose(context, [0, 2, 1, 3]), [-1, width])
        if token_rows is not None:
            context = tf.gather(context, token_rows)
        return self.attention_output(context, residual=residual, training=training)

    def seed_states(self):
        """The dropout seed-state variables, in a fixed order (what gradient checkpointing rewinds)."""
        return seed_states(self.probs_dropout, self.attention_output.dropout_layer)

    def compute_output_shape(self, rows_shape, attention_bias_shape=None):
        return rows_shape

    def get_config(self):
        return {
            **super().get_config(),
            "num_heads": self.num_heads,
            "dropout": self.dropout,
            "attention_dropout": self.attention_dropout,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            "inference_kernel": self.inference_kernel,
        }


def packed_rows(padding_mask):
    """`(token_rows, padded_rows)` of `SelfAttention`: where the real tokens are among the padded rows, and back.

    Args:
        padding_mask: int or bool `(batch_size, seq_length)`, 1 at real tokens.

    Returns:
        `token_rows`, int64 `(num_tokens,)`: the real tokens' rows of the
        `batch_size * seq_length`, in order; `padded_rows`, int64
        `(batch_size * seq_length,)`: each row's index in `token_rows`, and
        at padding that of the last real token before it in the batch (0
        before any): a gather fills padding with real rows, which the
        attention masks and the outputs' readers ignore.

    Example:
    >>> token_rows, padded_rows = packed_rows([[1, 1, 0], [1, 0, 0]])
    >>> token_rows.numpy().tolist(), padded_rows.numpy().tolist()
    ([0, 1, 3], [0, 1, 1, 2, 2, 2])
    """
    real = tf.cast(tf.reshape(padding_mask, [-1]), tf.bool)
    token_rows = tf.where(real)[:, 0]
    padded_rows = tf.maximum(tf.cumsum(tf.cast(real, tf.int64)) - 1, 0)
    return token_rows, padded_rows
