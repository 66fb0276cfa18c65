"""`BertPooler`: dense + tanh on the first ([CLS]) token (or the last, for left-to-right models)."""

import keras


@keras.saving.register_keras_serializable(package="keras_bert")
class BertPooler(keras.layers.Layer):
    """Pools a sequence into one vector: `tanh(W @ x[:, 0] + b)`.

    The paper fine-tunes sentence-level tasks on this vector, the final hidden
    state of the `[CLS]` token passed through a trained dense layer. A
    left-to-right (causal) encoder pools its last real token instead, the
    only one that has seen the whole input.

    Args:
        hidden_size: int. Output width (BERT uses the encoder's width).
        initializer_range: float. Stddev of the truncated-normal initializer.
            Defaults to `0.02`.
        pooled_token: `"first"` (`[CLS]`, BERT) or `"last"` (the last real
            token, by `padding_mask`). Defaults to `"first"`.
        **kwargs: Passed to `keras.layers.Layer` (`name`, `dtype`, ...).

    Call arguments:
        sequence_output: float tensor `(batch_size, seq_length, width)`.
        padding_mask: int tensor `(batch_size, seq_length)`, 1 for real
            tokens; needed with `pooled_token="last"`.

    Returns:
        Float tensor `(batch_size, hidden_size)`.

    Example:
    >>> import numpy as np
    >>> pooler = BertPooler(hidden_size=8)
    >>> tuple(pooler(np.zeros((3, 7, 8), "float32")).shape)
    (3, 8)
    """

    def __init__(self, hidden_size, initializer_range=0.02, pooled_token="first", **kwargs):
        super().__init__(**kwargs)
        if pooled_token not in ("first", "last"):
            raise ValueError(f"pooled_token={pooled_token!r} is not supported; use 'first' or 'last'.")
        self.hidden_size = hidden_size
        self.initializer_range = initializer_range
        self.pooled_token = pooled_token
        self.dense = keras.layers.Dense(
            hidden_size,
            activation="tanh",
            kernel_initializer=keras.initializers.TruncatedNormal(
                stddev=initializer_range
            ),
            dtype=self.dtype_policy,
            name="dense",
        )

    def build(self, sequence_output_shape, padding_mask_shape=None):
        self.dense.build((sequence_output_shape[0], sequence_output_shape[-1]))
        self.built = True

    def call(self, sequence_output, padding_mask=None):
        if self.pooled_token == "first":
            return self.dense(sequence_output[:, 0, :])
        if padding_mask is None:
            raise ValueError("BertPooler(pooled_token='last') needs the padding_mask to find the last real token.")
        last = keras.ops.sum(keras.ops.cast(padding_mask, "int32"), axis=1) - 1
        last = keras.ops.maximum(last, 0)[:, None, None]  # an all-padding row pools position 0
        return self.dense(keras.ops.take_along_axis(sequence_output, last, axis=1)[:, 0, :])

    def compute_output_shape(self, sequence_output_shape, padding_mask_shape=None):
        return (sequence_output_shape[0], self.hidden_size)

    def get_config(self):
        config = super().get_config()
        config.update(
            hidden_size=self.hidden_size,
            initializer_range=self.initializer_range,
            pooled_token=self.pooled_token,
        )
        return config
