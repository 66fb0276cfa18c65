"""`FusedDense`: a Dense layer computed as one oneDNN-fusable op per projection."""

import functools

import keras
import tensorflow as tf

from keras_bert.layers import cpu_kernels
from keras_bert.layers.dropout import Dropout
from keras_bert.layers.int8_kernels import int8_dense
from keras_bert.layers.training_kernels import gelu

# hidden_act name -> function (BertConfig.hidden_act takes these keys).
ACTIVATIONS = {
    "gelu": functools.partial(keras.activations.gelu, approximate=False),
    "gelu_tanh": functools.partial(keras.activations.gelu, approximate=True),
    "relu": keras.activations.relu,
    "tanh": keras.activations.tanh,
}


@keras.saving.register_keras_serializable(package="keras_bert")
class FusedDense(keras.layers.Dense):
    """`dropout(activation(x @ kernel + bias)) [+ residual]`, on rows, as oneDNN fuses it.

    A `keras.layers.Dense` (same `kernel` and `bias` variables, so the same
    checkpoint names, LoRA and saving) whose call flattens the input to 2-D
    rows and writes `MatMul`, `BiasAdd` and the activation as TensorFlow's
    oneDNN rewrite fuses them into one kernel; Keras' `Dense` on a 3-D input
    writes a batched matmul and a separate add, which is not fused.

    - `residual`, when given, is added inside that kernel (oneDNN's "sum"
      post-op), with `AddN`, which never broadcasts (grappler fuses an
      `AddV2` only where it can prove the shapes equal, which it cannot for
      the dynamic batch and length of an exported signature).
    - In training, `dropout` is applied before the residual add, and the
      exact GELU is `training_kernels.gelu` (one XLA kernel each way).
    - `inference_kernel` chooses how a bias-only product runs in inference
      (`cpu_kernels.dense_kernel`): `"matmul"`, or `"conv"`, a 1x1
      convolution over the rows, which oneDNN runs on AMX tiles for
      bfloat16 variables (it reorders the weights on each call); for
      constant (frozen) weights, which oneDNN lays out for AMX once, the
      matmul is the faster, and the exporter asks for it. `"auto"` asks
      `cpu_kernels`.
    - After Keras' `quantize("int8", type_check=False)` (int8 kernel, one
      scale per unit), inference on a oneDNN CPU runs
      `int8_kernels.int8_dense`: activations quantized per batch, one int8
      kernel with the bias, activation or residual fused. Training, and
      other machines, run Keras' own int8 matmul.

    Args:
        units: int. Output width.
        activation: optional key of `ACTIVATIONS` (`"gelu"` is exact erf).
        dropout: float. Rate applied in training to the activated product.
            Defaults to `0.0`.
        inference_kernel: `"auto"`, `"matmul"` or `"conv"`. Defaults to
            `"auto"`.
        **kwargs: `keras.layers.Dense`'s other arguments (`kernel_initializer`,
            `dtype`, `name`, `lora_rank`, ...).

    Call arguments:
        x: float tensor `(..., in_width)` with a static `in_width`.
        residual: optional tensor `(..., units)`, added last.
        training: bool. Enables dropout and the training kernels.

    Returns:
        Tensor `(..., units)` of the layer's compute dtype.

    Example:
    >>> import numpy as np
    >>> dense = FusedDense(3, activation="relu")
    >>> x = np.ones((4, 5, 2), "float32")
    >>> y = dense(x, residual=np.ones((4, 5, 3), "float32"))
    >>> tuple(y.shape), bool(np.allclose(y, np.maximum(x @ dense.kernel.numpy() + dense.bias.numpy(), 0) + 1))
    ((4, 5, 3), True)
    """

    def __init__(self, units, activation=None, dropout=0.0, inference_kernel="auto", **kwargs):
        if activation is not None and activation not in ACTIVATIONS:
            raise ValueError(f"activation={activation!r} is not supported; use one of {sorted(ACTIVATIONS)}.")
        super().__init__(units, **kwargs)  # Dense's own activation stays linear: ours is applied here
        self.activation_name = activation
        self.dropout = dropout
        self.inference_kernel = cpu_kernels.check_kernel(inference_kernel, cpu_kernels.DENSE_KERNELS,
                                                         "inference_kernel")
        self.dropout_layer = Dropout(dropout, dtype=self.dtype_policy, name="dropout")

    def call(self, x, residual=None, training=None):
        onednn_int8 = self.quantization_mode == "int8" and not training and cpu_kernels.onednn_cpu()
        if self.quantization_mode and not onednn_int8:  # Keras' int8 matmul (and bias); no fusion
            y = self._int8_call(x)
            y = y if self.activation_name is None else ACTIVATIONS[self.activation_name](y)
            y = self.dropout_layer(y, training=training)
            return y if residual is None else y + residual
        dtype = self.compute_dtype
        x = tf.cast(x, dtype)
        if x.shape.rank != 2:  # rows in, rows out: 2-D callers get no reshape, which would break fusions
            shape = tf.shape(x)
            y = self.call(tf.reshape(x, [-1, x.shape[-1]]),
                          None if residual is None else tf.reshape(residual, [-1, self.units]), training)
            return tf.reshape(y, tf.concat([shape[:-1], [self.units]], 0))
        residual = None if residual is None else tf.cast(residual, dtype)
        if onednn_int8:
            if residual is not None and self.activation_name is not None:
                y = int8_dense(x, self._kernel, self.kernel_scale, self.bias, self.activation_name, dtype=dtype)
                return tf.math.add_n([y, residual])
            return int8_dense(x, self._kernel, self.kernel_scale, self.bias, self.activation_name, residual, dtype)
        kernel = tf.cast(self.kernel, dtype)
        bias = tf.zeros([self.units], dtype) if self.bias is None else tf.cast(self.bias, dtype)
        if training and self.dropout:
            y = self.dropout_layer(self._product(x, kernel, bias, training), training=True)
            return y if residual is None else residual + y
        if (not training and self.activation_name is None
                and cpu_kernels.dense_kernel(self.inference_kernel, dtype) == "conv"):
            return dense_as_conv(x, kernel, bias, residual)
        y = self._product(x, kernel, bias, training)
        return y if residual is None else tf.math.add_n([y, residual])

    def quantized_call(self, *args, **kwargs):
        # Keras' `__call__` sends a quantized layer here instead of to `call`;
        # ours runs its int8 kernels (and the activation, dropout, residual) itself.
        if self.quantization_mode != "int8":
            raise NotImplementedError(f"FusedDense runs int8 quantization only, not {self.quantization_mode!r}.")
        return self.call(*args, **kwargs)

    def _product(self, rows, kernel, bias, training):
        y = tf.nn.bias_add(tf.matmul(rows, kernel), bias)
        if self.activation_name == "gelu" and training:
            return gelu(y)  # oneDNN fuses GELU only in inference; this is XLA's
        return y if self.activation_name is None else ACTIVATIONS[self.activation_name](y)

    def compute_output_shape(self, x_shape, residual_shape=None):
        return (*x_shape[:-1], self.units)

    def get_config(self):
        return {
            **super().get_config(),
            "activation": self.activation_name,
            "dropout": self.dropout,
            "inference_kernel": self.inference_kernel,
        }


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
    # one, and a following layer norm's pattern would no longer be matched.
    return y[0, :, 0, :]
