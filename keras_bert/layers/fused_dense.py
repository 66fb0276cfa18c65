"""`fused_dense`: a Dense layer's weights applied as one oneDNN-fusable op."""

import contextlib
import functools
import platform
import threading

import keras
import tensorflow as tf

from keras_bert.layers.training_kernels import gelu

# hidden_act name -> function (BertConfig.hidden_act takes these keys).
ACTIVATIONS = {
    "gelu": functools.partial(keras.activations.gelu, approximate=False),
    "gelu_tanh": functools.partial(keras.activations.gelu, approximate=True),
    "relu": keras.activations.relu,
    "tanh": keras.activations.tanh,
}


def fused_dense(x, layer, dtype, activation=None, training=False, residual=None):
    """`activation(x @ kernel + bias) [+ residual]` for 2-D `x`, as oneDNN fuses it.

    TensorFlow's oneDNN graph rewrite turns a 2-D `MatMul` followed by
    `BiasAdd` (and GELU, ReLU or tanh) into one kernel. Keras' `Dense` on a
    3-D input emits a batched matmul and a separate add, which it does not
    fuse: a BERT-Base block runs 1.3x faster in bfloat16 this way.

    That fused matmul hands oneDNN plain weights, for which oneDNN has no AMX
    kernel. So for bfloat16 inference without an activation on CPUs with AMX
    (`bfloat16_conv_is_faster(dtype)`), the product runs as a 1x1
    convolution (`dense_as_conv`), whose kernel reorders the weights for AMX
    on each call: same result, a BERT-Base forward 1.10x faster. Not in training:
    its gradients run slower than the matmul's; not for weights that will be
    frozen into constants, which oneDNN lays out for AMX once
    (`tracing_for_frozen_weights`).

    In training, the exact GELU is `gelu`: one XLA kernel forward and one
    backward, where TensorFlow's takes about fifteen elementwise passes.

    A `residual` added here, not after, is fused too (oneDNN's "sum"
    post-op: no separate pass over the output, and in bfloat16 one rounding
    fewer). It is added with `AddN`, not `+`: grappler fuses an `AddV2` only
    where it can prove both shapes equal, which it cannot for the dynamic
    batch and length of an exported signature; `AddN` never broadcasts.

    Args:
        x: float tensor `(rows, in_width)` with a static `in_width`.
        layer: a built `keras.layers.Dense` or `EinsumDense` whose kernel
            reshapes to `(in_width, out_width)` and bias to `(out_width,)`.
        dtype: the compute dtype (the layer's variables are cast to it).
        activation: optional key of `ACTIVATIONS`.
        training: bool or None. Only `True` rules out the convolution and
            selects the training GELU.
        residual: optional `(rows, out_width)` tensor of `dtype`, added last.

    Returns:
        `(rows, out_width)` tensor of `dtype`.

    Example:
    >>> import keras, numpy as np
    >>> dense = keras.layers.Dense(3)
    >>> dense.build((None, 2))
    >>> x = np.ones((4, 2), "float32")
    >>> bool(np.allclose(fused_dense(x, dense, "float32"), dense(x)))
    True
    """
    x = tf.cast(x, dtype)
    kernel = tf.reshape(tf.cast(layer.kernel, dtype), [x.shape[-1], -1])
    bias = tf.reshape(tf.cast(layer.bias, dtype), [-1])
    if activation is None and training is not True and bfloat16_conv_is_faster(dtype):
        return dense_as_conv(x, kernel, bias, residual)
    x = tf.nn.bias_add(tf.matmul(x, kernel), bias)
    if activation == "gelu" and training is True:
        x = gelu(x)  # oneDNN fuses GELU only in inference; this is XLA's
    elif activation is not None:
        x = ACTIVATIONS[activation](x)
    return x if residual is None else tf.math.add_n([x, residual])


def dense_as_conv(x, kernel, bias, residual=None):
    """`x @ kernel + bias [+ residual]` computed as a 1x1 `conv2d` over `rows` pixels.

    Args:
        x: `(rows, in_width)` tensor.
        kernel: `(in_width, out_width)` tensor of `x`'s dtype.
        bias: `(out_width,)` tensor of `x`'s dtype.
        residual: optional `(rows, out_width)` tensor of `x`'s dtype, added
            to the convolution's 4-D output, where oneDNN fuses the add.

    Returns:
        `(rows, out_width)` tensor.

    Example:
    >>> import numpy as np
    >>> x, kernel = np.ones((4, 2), "float32"), np.ones((2, 3), "float32")
    >>> dense_as_conv(x, kernel, np.zeros(3, "float32")).numpy()[0].tolist()
    [2.0, 2.0, 2.0]
    """
    pixels = x[None, :, None, :]  # NHWC: one image, `rows` high, 1 wide
    filters = kernel[None, None]  # (1, 1, in_width, out_width)
    y = tf.nn.bias_add(tf.nn.conv2d(pixels, filters, strides=1, padding="VALID"), bias)
    if residual is not None:
        y = tf.math.add_n([y, residual[None, :, None, :]])
    # A slice, not a reshape: grappler would merge a reshape into the next
    # one, and a following `fused_layer_norm` would no longer be matched.
    return y[0, :, 0, :]


def bfloat16_conv_is_faster(dtype):
    """Whether `fused_dense` runs bias-only bfloat16 inference as a convolution.

    True for `dtype="bfloat16"` where it was measured faster: TensorFlow with
    oneDNN on an x86 Linux CPU with AMX (`amx_bf16`), no GPU visible, and not
    while tracing for frozen weights (`tracing_for_frozen_weights`).

    Example:
    >>> bfloat16_conv_is_faster("float32")
    False
    """
    return dtype == "bfloat16" and not getattr(_tracing, "for_frozen_weights", False) and _cpu_has_onednn_amx()


_tracing = threading.local()


@contextlib.contextmanager
def tracing_for_frozen_weights():
    """Graphs traced within will have their weights folded into constants (see `export.freezing.freeze`).

    With constant weights oneDNN lays them out for AMX once and keeps them, so
    the fused matmul (with its bias, GELU or residual) beats the convolution
    that bfloat16 inference otherwise takes: a frozen BERT-Base forward, seq
    128, batch 32, ran 391.6 -> 380.7 ms, BERT-Small 77.3 -> 72.3 ms.

    Example:
    >>> with tracing_for_frozen_weights():
    ...     bfloat16_conv_is_faster("bfloat16")
    False
    """
    previous = getattr(_tracing, "for_frozen_weights", False)
    _tracing.for_frozen_weights = True
    try:
        yield
    finally:
        _tracing.for_frozen_weights = previous


@functools.cache
def onednn_cpu():
    """Whether TensorFlow runs its oneDNN graph rewrites here: an x86 CPU, no GPU.

    True where TensorFlow was built with oneDNN and it is on (not disabled
    by `TF_ENABLE_ONEDNN_OPTS=0`), on an x86 machine with no GPU visible.

    Example:
    >>> isinstance(onednn_cpu(), bool)
    True
    """
    if platform.machine() not in ("x86_64", "AMD64") or tf.config.list_physical_devices("GPU"):
        return False
    try:
        from tensorflow.python.util import _pywrap_util_port  # private: no public query exists

        return bool(_pywrap_util_port.IsMklEnabled())
    except (ImportError, AttributeError):
        return False


@functools.cache
def _cpu_has_onednn_amx():
    if not onednn_cpu():
        return False
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            return any(line.startswith("flags") and " amx_bf16" in line for line in cpuinfo)
    except OSError:
        return False
