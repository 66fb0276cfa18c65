"""GELU and layer norm for training: forward and gradient each one XLA kernel.

TensorFlow writes BERT's exact GELU as five elementwise ops and its gradient
as about ten more; Keras' layer norm is about ten ops and its gradient
twenty. Each op is a pass over the activations, and in bfloat16 each one
also converts every element to float32 and back. Here the forward and the
gradient of each are one XLA-compiled loop that computes in float32 (float64
for float64 inputs) and rounds once at the end. Inference does not use them:
there oneDNN fuses GELU into the matmul (`FusedDense`) and layer norm into
one kernel (`FusedLayerNorm`). XLA compiles each new input shape once.
Timings: reports/performance/kernels.md.
"""

import math

import tensorflow as tf

_SQRT_HALF = math.sqrt(0.5)
_INV_SQRT_2PI = 1 / math.sqrt(2 * math.pi)


@tf.custom_gradient
def gelu(x):
    """`x * Phi(x)` (`Phi` the standard normal CDF) with the gradient `Phi(x) + x * phi(x)`.

    The function of `keras.activations.gelu(x, approximate=False)`, faster
    than Keras' and, in bfloat16, closer to the exact values (computed in
    float32, rounded once; figures in reports/performance/kernels.md).

    Args:
        x: float tensor of any shape.

    Returns:
        A tensor of `x`'s shape and dtype.

    Example:
    >>> import numpy as np, tensorflow as tf
    >>> x = tf.constant([-1.0, 0.0, 2.0])
    >>> np.round(gelu(x).numpy().astype(float), 4).tolist()
    [-0.1587, 0.0, 1.9545]
    >>> with tf.GradientTape() as tape:
    ...     tape.watch(x)
    ...     y = gelu(x)
    >>> np.round(tape.gradient(y, x).numpy().astype(float), 4).tolist()
    [-0.0833, 0.5, 1.0852]
    """

    def gradient(upstream):
        return _gelu_gradient(x, upstream)

    return _gelu(x), gradient


def layer_norm(x, gamma, beta, epsilon):
    """`(x - mean) / sqrt(variance + epsilon) * gamma + beta` over the last axis, with its gradients.

    The function of `keras.layers.LayerNormalization` (statistics in float32
    for half-precision inputs, as Keras computes them), in one pass each
    way (timings: reports/performance/kernels.md).

    Args:
        x: float tensor `(..., width)`.
        gamma: float32 (or float64) tensor or variable `(width,)`: the scale.
        beta: tensor or variable `(width,)` of `gamma`'s dtype: the offset.
        epsilon: float added to the variance.

    Returns:
        A tensor of `x`'s shape and dtype.

    Example:
    >>> import numpy as np, tensorflow as tf
    >>> x = tf.constant([[1.0, 2.0, 6.0]])
    >>> y = layer_norm(x, tf.ones(3), tf.zeros(3), 1e-12)
    >>> np.round(y.numpy().astype(float), 4).tolist()
    [[-0.9258, -0.4629, 1.3887]]
    """
    # Variables are read here: the custom gradient then sees tensors.
    gamma, beta = tf.convert_to_tensor(gamma), tf.convert_to_tensor(beta)
    return _layer_norm_with_gradient(x, gamma, beta, tf.constant(epsilon, computing_dtype(x)))


@tf.custom_gradient
def _layer_norm_with_gradient(x, gamma, beta, epsilon):
    y, mean, inverse_std = _layer_norm(x, gamma, beta, epsilon)

    def gradient(upstream):
        return (*_layer_norm_gradient(upstream, x, mean, inverse_std, gamma), None)

    return y, gradient


def computing_dtype(x):
    """float64 for float64 `x`, else float32: the dtype these kernels compute in."""
    return tf.float64 if x.dtype == tf.float64 else tf.float32


@tf.function(jit_compile=True)
def _gelu(x):
    exact = tf.cast(x, computing_dtype(x))
    return tf.cast(0.5 * exact * tf.math.erfc(-exact * _SQRT_HALF), x.dtype)


@tf.function(jit_compile=True)
def _gelu_gradient(x, upstream):
    exact = tf.cast(x, computing_dtype(x))
    cdf = 0.5 * tf.math.erfc(-exact * _SQRT_HALF)
    pdf = _INV_SQRT_2PI * tf.exp(-0.5 * exact * exact)
    return tf.cast(tf.cast(upstream, exact.dtype) * (cdf + exact * pdf), x.dtype)


@tf.function(jit_compile=True)
def _layer_norm(x, gamma, beta, epsilon):
    exact = tf.cast(x, epsilon.dtype)
    mean = tf.reduce_mean(exact, -1, keepdims=True)
    centered = exact - mean
    inverse_std = tf.math.rsqrt(tf.reduce_mean(tf.square(centered), -1, keepdims=True) + epsilon)
    y = centered * inverse_std * tf.cast(gamma, exact.dtype) + tf.cast(beta, exact.dtype)
    return tf.cast(y, x.dtype), mean, inverse_std


@tf.function(jit_compile=True)
def _layer_norm_gradient(upstream, x, mean, inverse_std, gamma):
    exact = tf.cast(x, mean.dtype)
    upstream = tf.cast(upstream, mean.dtype)
    normalized = (exact - mean) * inverse_std
    scaled = upstream * tf.cast(gamma, mean.dtype)
    dx = inverse_std * (
        scaled
        - tf.reduce_mean(scaled, -1, keepdims=True)
        - normalized * tf.reduce_mean(scaled * normalized, -1, keepdims=True)
    )
    rows = list(range(x.shape.rank - 1))
    dgamma = tf.reduce_sum(upstream * normalized, rows)
    dbeta = tf.reduce_sum(upstream, rows)
    return tf.cast(dx, x.dtype), tf.cast(dgamma, gamma.dtype), tf.cast(dbeta, gamma.dtype)
