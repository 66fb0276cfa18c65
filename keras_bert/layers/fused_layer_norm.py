"""`FusedLayerNorm`: Keras' LayerNormalization run as one kernel in training and inference."""

import keras
import tensorflow as tf

from keras_bert.layers import cpu_kernels
from keras_bert.layers.training_kernels import layer_norm


@keras.saving.register_keras_serializable(package="keras_bert")
class FusedLayerNorm(keras.layers.LayerNormalization):
    """A `keras.layers.LayerNormalization` whose normalization runs as one kernel.

    Keras' layer normalization is about ten TensorFlow ops (casts to
    float32, two means, a rsqrt, multiplies and adds), each a pass over the
    input. Same variables (`gamma`, `beta`) and configuration; for BERT's
    layout (last axis, with `center` and `scale`) the call is:

    - training (`training=True`): `training_kernels.layer_norm`, one XLA
      kernel forward and one backward;
    - inference with `inference_kernel="batch_norm"`: the op pattern
      TensorFlow's oneDNN rewrite replaces by one layer-norm kernel
      (`_MklLayerNorm`: float32 statistics, one rounding): a training-mode
      `FusedBatchNormV3` over the rows laid out as NCHW channels, then
      `* gamma + beta`. Where the rewrite does not run (eager, XLA, a
      SavedModel served without oneDNN) the same normalization is computed
      unfused, rounded once more in bfloat16;
    - inference with `inference_kernel="keras"`: Keras' own ops.

    `"auto"` (the default) picks `"batch_norm"` where the oneDNN rewrite
    runs and `"keras"` elsewhere (`cpu_kernels.layer_norm_kernel`).

    Args:
        inference_kernel: `"auto"`, `"batch_norm"` or `"keras"`.
        **kwargs: `keras.layers.LayerNormalization`'s arguments (`epsilon`,
            `dtype`, `name`, ...).

    Call arguments:
        x: float tensor `(..., width)`.
        training: bool. `True` selects the training kernel.

    Returns:
        Tensor shaped like `x`, of the layer's compute dtype.

    Example:
    >>> import numpy as np
    >>> layer = FusedLayerNorm(epsilon=1e-12)
    >>> x = np.array([[1.0, 2.0, 6.0]], "float32")
    >>> reference = keras.layers.LayerNormalization(epsilon=1e-12)
    >>> bool(np.allclose(tf.function(layer)(x), reference(x), atol=1e-6))
    True
    """

    def __init__(self, inference_kernel="auto", **kwargs):
        super().__init__(**kwargs)
        self.inference_kernel = cpu_kernels.check_kernel(inference_kernel, cpu_kernels.LAYER_NORM_KERNELS,
                                                         "inference_kernel")

    def call(self, x, training=None):
        bert_layout = self.axis in (-1, [-1]) and self.center and self.scale and not self.rms_scaling
        if not bert_layout:
            return super().call(x)
        if training:
            return tf.cast(layer_norm(x, self.gamma, self.beta, self.epsilon), self.compute_dtype)
        if self.compute_dtype not in ("float32", "bfloat16") or (
                cpu_kernels.layer_norm_kernel(self.inference_kernel) == "keras"):
            return super().call(x)
        return self._batch_norm_pattern(x)

    def _batch_norm_pattern(self, x):
        dtype = self.compute_dtype
        x = tf.cast(x, dtype)
        shape = tf.shape(x)
        # The rewrite matches `Fill` ops for the unit scale and zero offset;
        # with a static row count, constant folding would turn them into
        # constants first. A placeholder is never folded.
        rows = tf.compat.v1.placeholder_with_default(tf.reduce_prod(shape[:-1]), [])
        channels = tf.reshape(x, [1, rows, x.shape[-1], 1])  # NCHW: one channel per row
        normalized, _, _ = tf.compat.v1.nn.fused_batch_norm(
            channels,
            scale=tf.fill([rows], 1.0),
            offset=tf.fill([rows], 0.0),
            epsilon=self.epsilon,
            data_format="NCHW",
            is_training=True,  # statistics of each row, as layer norm
        )
        return tf.reshape(normalized, shape) * tf.cast(self.gamma, dtype) + tf.cast(self.beta, dtype)

    def get_config(self):
        return {**super().get_config(), "inference_kernel": self.inference_kernel}
