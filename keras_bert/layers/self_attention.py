"""`SelfAttention`: BERT's multi-head self-attention, with its output projection."""

import collections

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
        groups: optional `LengthGroups` (from `length_groups`), in
            inference: `rows` holds only the real tokens' rows, packed
            (`(num_tokens, hidden)`, see `TransformerBlock`'s
            `skip_padding`). The projections run on them alone, the
            attention on each group of similar-length sequences padded to
            that group's longest, and the output holds the packed rows.
            `attention_bias` and `seq_length` are then unused.
        training: bool. Enables dropout.

    Returns:
        `(batch_size * seq_length, hidden)` tensor of the compute dtype, or
        `(num_tokens, hidden)` with `groups`.

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

    def call(self, rows, attention_bias=None, seq_length=None, residual=None, groups=None, training=None):
        seq_length = tf.shape(rows)[0] if seq_length is None else seq_length
        projected = [p(rows, training=training) for p in (self.query, self.key, self.value)]
        if groups is None:
            context = self._attention(*projected, attention_bias, [-1, seq_length], training)
        else:
            # Each group's sequences, padded to the group's longest; then every token's row back in packed order.
            contexts = [self._attention(*(tf.gather(p, group_rows) for p in projected), group_bias,
                                        tf.shape(group_rows), training)
                        for group_rows, group_bias in groups.groups]
            context = tf.gather(tf.concat(contexts, 0), groups.token_positions)
        return self.attention_output(context, residual=residual, training=training)

    def _attention(self, query, key, value, attention_bias, batch_and_length, training):
        """Rows of `batch * length` sequences' projections -> their attention context rows, heads joined."""
        width = query.shape[-1]
        head_size = width // self.num_heads

        def heads(projected):  # (batch * length, width) -> (batch, heads, length, head_size)
            projected = tf.reshape(projected, [batch_and_length[0], batch_and_length[1], self.num_heads, head_size])
            return tf.transpose(projected, [0, 2, 1, 3])

        # As Keras' MultiHeadAttention: the query is scaled before the product.
        scores = tf.matmul(heads(query) * tf.cast(head_size**-0.5, self.compute_dtype), heads(key), transpose_b=True)
        if attention_bias is not None:
            scores += tf.cast(attention_bias, scores.dtype)
        probs = self.probs_dropout(tf.nn.softmax(scores), training=training)
        context = tf.matmul(probs, heads(value))
        return tf.reshape(tf.transpose(context, [0, 2, 1, 3]), [-1, width])

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


def attention_bias(padding_mask, seq_length, causal, dtype):
    """Scores added before the softmax: a large negative value where a query must not look.

    Args:
        padding_mask: optional int/bool `(batch, seq)`, 0 at padding keys.
        seq_length: int scalar.
        causal: bool. Also mask keys after each query.
        dtype: the compute dtype. The large value is Keras' Softmax's: -1e9,
            or -3e4 in float16, whose range ends at 65504 (-1e9 would be
            -inf, and 0 * -inf = nan at the kept keys).

    Returns:
        None, or a tensor broadcastable to `(batch, heads, seq, seq)`.

    Example:
    >>> attention_bias([[1, 0]], 2, causal=False, dtype="float32").numpy().tolist()
    [[[[-0.0, -1000000000.0]]]]
    """
    large_negative = -3e4 if dtype == "float16" else -1e9
    bias = None
    if padding_mask is not None:
        keep = tf.cast(padding_mask, dtype)[:, None, None, :]  # (batch, 1, 1, seq)
        bias = (1.0 - keep) * tf.cast(large_negative, dtype)
    if causal:
        future = tf.linalg.band_part(tf.ones([seq_length, seq_length]), 0, -1) - tf.eye(seq_length)
        causal_bias = tf.cast(future * large_negative, dtype)[None, None]  # (1, 1, seq, seq)
        bias = causal_bias if bias is None else tf.minimum(bias, causal_bias)
    return bias


LengthGroups = collections.namedtuple("LengthGroups", ["groups", "token_positions"])
LengthGroups.__doc__ = """What `length_groups` returns, for `SelfAttention`'s `groups`.

Fields:
    groups: a list of `(rows, bias)`, one per group: `rows`, int64
        `(sequences, longest)`, each sequence's packed row at each position
        (past its end, its last token's); `bias`, float
        `(sequences, 1, 1 or longest, longest)`, added to the scores (a large
        negative value at the positions past each end, and after each query
        if causal).
    token_positions: int64 `(num_tokens,)`: each packed token's row in the
        groups' outputs, concatenated in group order.
"""


def length_groups(padding_mask, num_groups, causal=False, dtype="float32"):
    """Sequences sorted by length and cut into `num_groups` groups, for attention without most of the padding.

    A batch cut to its longest sequence spends most of its attention on
    padding when lengths vary (its scores grow with `longest ** 2`); after
    sorting, each group is padded only to its own longest. The tokens are
    addressed as `packed_rows` packs them: the real tokens' rows, in order.
    A sequence's tokens keep their order (what a causal mask needs); holes
    in a mask are closed up, as the padded attention masks them out.

    Args:
        padding_mask: int or bool `(batch_size, seq_length)`, 1 at real tokens.
        num_groups: int. Groups of `ceil(batch_size / num_groups)` sequences,
            longest first (the last ones may be smaller or empty).
        causal: bool. Also mask keys after each query.
        dtype: the scores' dtype (see `attention_bias`).

    Returns:
        A `LengthGroups`.

    Raises:
        ValueError: `num_groups` is not a positive int.

    Example:
    >>> groups = length_groups([[1, 1, 0, 0], [1, 1, 1, 1], [1, 0, 0, 0]], num_groups=2)
    >>> [rows.numpy().tolist() for rows, _ in groups.groups]  # tokens 0-1, 2-5, 6
    [[[2, 3, 4, 5], [0, 1, 1, 1]], [[6]]]
    >>> groups.token_positions.numpy().tolist()  # the groups' 2 * 4 + 1 * 1 output rows
    [4, 5, 0, 1, 2, 3, 8]
    """
    if not isinstance(num_groups, int) or num_groups < 1:
        raise ValueError(f"num_groups={num_groups!r}; use a positive int (one group is the whole batch).")
    lengths = tf.reduce_sum(tf.cast(padding_mask, tf.int64), 1)
    starts = tf.cumsum(lengths, exclusive=True)  # each sequence's first packed row
    num_tokens = tf.reduce_sum(lengths)
    batch_size = tf.shape(lengths, out_type=tf.int64)[0]
    order = tf.argsort(lengths, direction="DESCENDING", stable=True)
    group_size = (batch_size + num_groups - 1) // num_groups
    groups, output_starts, offset = [], [], tf.constant(0, tf.int64)
    for index in range(num_groups):
        members = order[index * group_size:(index + 1) * group_size]
        member_lengths = tf.gather(lengths, members)
        longest = tf.reduce_max(tf.concat([member_lengths, [0]], 0))
        positions = tf.range(longest)
        # Past its end a sequence repeats its last token's row (masked as a key); the clip keeps an empty
        # sequence's rows (all masked) inside the packed rows.
        rows = tf.gather(starts, members)[:, None] + tf.minimum(positions[None], member_lengths[:, None] - 1)
        rows = tf.clip_by_value(rows, 0, tf.maximum(num_tokens - 1, 0))
        groups.append((rows, attention_bias(positions[None] < member_lengths[:, None], longest, causal, dtype)))
        count = tf.shape(members, out_type=tf.int64)[0]
        output_starts.append(offset + tf.range(count) * longest)
        offset += count * longest
    sequence_output_start = tf.gather(tf.concat(output_starts, 0), tf.math.invert_permutation(order))  # by sequence
    sequence = tf.repeat(tf.range(batch_size), lengths)
    position = tf.range(num_tokens) - tf.gather(starts, sequence)
    return LengthGroups(groups, tf.gather(sequence_output_start, sequence) + position)
