"""`TokenPooling`: one vector per sequence from its token vectors (sentence embeddings)."""

import keras
import tensorflow as tf

from keras_bert.layers.mean_pool import mean_pool

POOLING_MODES = ("mean", "cls", "max")


@keras.saving.register_keras_serializable(package="keras_bert")
class TokenPooling(keras.layers.Layer):
    """Pools a sequence's real tokens into one vector, optionally of unit length.

    The three poolings of sentence-transformers' `Pooling` module, computed
    as it does: `"mean"` averages the real tokens (all-MiniLM-L6-v2 and most
    embedding models), `"cls"` takes the `[CLS]` token's vector (not the
    encoder's pooled `tanh` output), `"max"` takes each feature's maximum over
    the real tokens. `normalize=True` then divides by the L2 norm, as its
    `Normalize` module, so dot products are cosine similarities.

    Args:
        mode: `"mean"`, `"cls"` or `"max"`. Defaults to `"mean"`.
        normalize: bool. Scale each vector to unit L2 norm. Defaults to
            `True`.
        **kwargs: Passed to `keras.layers.Layer`.

    Call arguments:
        sequence_output: float tensor `(batch_size, seq_length, hidden_size)`.
        input_mask: int tensor `(batch_size, seq_length)`, 1 for real tokens.

    Returns:
        float32 tensor `(batch_size, hidden_size)`.

    Example:
    >>> x = tf.constant([[[3.0, 0.0], [1.0, 4.0], [100.0, 100.0]]])
    >>> mask = tf.constant([[1, 1, 0]])
    >>> TokenPooling("mean", normalize=False)(x, mask).numpy().tolist()
    [[2.0, 2.0]]
    >>> [round(v, 3) for v in TokenPooling("max")(x, mask).numpy()[0].tolist()]  # (3, 4) / 5
    [0.6, 0.8]
    """

    def __init__(self, mode="mean", normalize=True, **kwargs):
        super().__init__(**kwargs)
        if mode not in POOLING_MODES:
            raise ValueError(f"pooling={mode!r} is not supported; use one of {', '.join(POOLING_MODES)}.")
        self.mode = mode
        self.normalize = bool(normalize)

    def call(self, sequence_output, input_mask):
        # In float32 whatever the compute dtype: the mean's sum and the norm
        # would lose digits in bfloat16.
        sequence_output = tf.cast(sequence_output, tf.float32)
        if self.mode == "mean":
            pooled = mean_pool(sequence_output, input_mask)
        elif self.mode == "cls":
            pooled = sequence_output[:, 0]
        else:
            # sentence-transformers sets padding to -1e9 before the max.
            padding = tf.cast(tf.equal(input_mask, 0), tf.float32)[:, :, None] * -1e9
            pooled = tf.reduce_max(sequence_output + padding, axis=1)
        if self.normalize:
            # torch.nn.functional.normalize's rule: x / max(||x||, 1e-12).
            pooled = pooled / tf.maximum(tf.norm(pooled, axis=-1, keepdims=True), 1e-12)
        return pooled

    def compute_output_shape(self, sequence_output_shape, input_mask_shape=None):
        return (sequence_output_shape[0], sequence_output_shape[-1])

    def compute_output_spec(self, sequence_output, input_mask):
        return keras.KerasTensor((sequence_output.shape[0], sequence_output.shape[-1]), dtype="float32")

    def get_config(self):
        return {**super().get_config(), "mode": self.mode, "normalize": self.normalize}
