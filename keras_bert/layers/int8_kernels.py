"""`int8_dense`: a dense layer's inference as one oneDNN int8 matmul, activations quantized per batch.

The int8 form of `FusedDense` (after `FusedDense.quantize("int8")`, see
`BertEncoder.quantize`). Weights are Keras' int8 quantization: one scale per
output unit (`w ~= kernel / kernel_scale`). Activations are quantized
dynamically, as PyTorch's `quantize_dynamic` and ONNX Runtime's dynamic
quantization do: symmetric int8 over the whole batch, scaled by its
largest magnitude. The product, bias, activation or residual add and the
conversion back to float run as one oneDNN kernel (AMX or VNNI int8 where
the CPU has them).
"""

import contextlib

import tensorflow as tf

from keras_bert.private_apis import onednn_quantized_matmul

# FusedDense activation name -> the name oneDNN's fused epilogue takes.
_constant_kernels = False
ONEDNN_ACTIVATIONS = {"gelu": "GeluExact", "gelu_tanh": "GeluApproximate", "relu": "Relu", "tanh": "Tanh"}


@contextlib.contextmanager
def constant_kernels():
    """Within it, `int8_dense` tells oneDNN its kernels never change, so each op keeps its reordered copy.

    For graphs traced only to be frozen (`export.freezing.freeze`), where
    every kernel becomes a constant: oneDNN then lays each kernel out for
    AMX once instead of on every call (reports/serving.md). A
    graph whose kernels are variables must not be traced within it: an op
    would keep serving the kernel it first saw.

    Example:
    >>> with constant_kernels():
    ...     pass
    """
    global _constant_kernels
    previous, _constant_kernels = _constant_kernels, True
    try:
        yield
    finally:
        _constant_kernels = previous


def quantize_rows(rows):
    """`rows` as symmetric int8 scaled by the largest magnitude: `(qint8 rows, -bound, bound)`.

    `narrow_range` keeps the codes in [-127, 127], so the scale the matmul
    reads back from `(-bound, bound)` is exactly the one used here.

    Example:
    >>> q, low, high = quantize_rows(tf.constant([[0.5, -1.0]]))
    >>> tf.bitcast(q, tf.int8).numpy().tolist(), float(high)
    ([[64, -127]], 1.0)
    """
    rows = tf.cast(rows, tf.float32)
    bound = tf.maximum(-tf.reduce_min(rows), tf.reduce_max(rows))
    quantized, low, high = tf.raw_ops.QuantizeV2(input=rows, min_range=-bound, max_range=bound, T=tf.qint8,
                                                 mode="SCALED", narrow_range=True)
    return quantized, low, high


def int8_dense(rows, kernel, kernel_scale, bias=None, activation=None, residual=None, dtype="float32"):
    """`activation(rows @ kernel / kernel_scale + bias) [+ residual]` with int8 rows and kernel.

    On a oneDNN CPU build only (`cpu_kernels.onednn_cpu()`). The op exists
    in graphs only, so an eager call runs through a `tf.function`.

    Args:
        rows: float tensor `(n, in_width)`.
        kernel: int8 tensor `(in_width, units)`, Keras' quantized kernel.
        kernel_scale: float tensor `(units,)`.
        bias: optional float tensor `(units,)`.
        activation: optional `FusedDense` activation name.
        residual: optional tensor `(n, units)`, added last (not with an
            activation).
        dtype: the output dtype, `"float32"` or `"bfloat16"`.

    Returns:
        Tensor `(n, units)` of `dtype`.

    Example:
    >>> import numpy as np
    >>> kernel = tf.constant([[127, 0], [0, -127]], tf.int8)
    >>> f = tf.function(lambda x: int8_dense(x, kernel, tf.constant([127.0, 127.0]), tf.constant([0.0, 1.0])))
    >>> np.round(f(tf.constant([[4.0, -4.0]])).numpy(), 4).tolist()  # codes 127 and -127: exact
    [[4.0, 5.0]]
    """
    if residual is not None and activation is not None:
        raise ValueError("int8_dense fuses an activation or a residual add, not both.")
    if tf.executing_eagerly():
        # Tensors, not Keras variables: the function would key its trace on the variable object.
        rows, kernel, kernel_scale, bias, residual = (None if t is None else tf.convert_to_tensor(t)
                                                      for t in (rows, kernel, kernel_scale, bias, residual))
        return _int8_dense_graph(rows, kernel, kernel_scale, bias, activation, residual, dtype)
    dtype = tf.as_dtype(dtype)
    units = kernel.shape[-1]
    quantized, low, high = quantize_rows(rows)
    kernel = tf.bitcast(tf.cast(kernel, tf.int8), tf.qint8)
    kernel_range = 127.0 / tf.cast(kernel_scale, tf.float32)
    bias = tf.zeros([units], tf.float32) if bias is None else tf.cast(bias, tf.float32)
    inputs = [quantized, kernel, bias]
    fused_ops = ["BiasAdd"]
    if residual is not None:
        inputs.append(tf.cast(residual, dtype))
        fused_ops.append("Add")
    elif activation is not None:
        fused_ops.append(ONEDNN_ACTIVATIONS[activation])
    fused_ops.append("Dequantize")
    return onednn_quantized_matmul(inputs + [low, high, -kernel_range, kernel_range], fused_ops, dtype,
                                   constant_kernel=_constant_kernels)


_int8_dense_graph = tf.function(int8_dense)
