"""Which fused kernel each layer runs: the one place that looks at the machine.

`FusedDense` and `FusedLayerNorm` take an explicit `inference_kernel`
setting. Its default, `"auto"`, is resolved here, once per process, from the
hardware and the TensorFlow build; any layer can be given a concrete kernel
instead. Training always runs the XLA kernels of `training_kernels`, so
only inference depends on the machine, and only in speed: every kernel
computes the same function (see each layer's docstring for its rounding).
"""

import functools
import platform

import tensorflow as tf

from keras_bert.private_apis import onednn_enabled

DENSE_KERNELS = ("auto", "matmul", "conv")
LAYER_NORM_KERNELS = ("auto", "batch_norm", "keras")


@functools.cache
def onednn_cpu():
    """Whether TensorFlow runs its oneDNN graph rewrites here: an x86 CPU, no GPU, oneDNN on.

    Example:
    >>> isinstance(onednn_cpu(), bool)
    True
    """
    if platform.machine() not in ("x86_64", "AMD64") or tf.config.list_physical_devices("GPU"):
        return False
    return onednn_enabled()


@functools.cache
def cpu_has_amx():
    """Whether this CPU has AMX bfloat16 tiles (`amx_bf16` in `/proc/cpuinfo`), with oneDNN on.

    Example:
    >>> isinstance(cpu_has_amx(), bool)
    True
    """
    if not onednn_cpu():
        return False
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            return any(line.startswith("flags") and " amx_bf16" in line for line in cpuinfo)
    except OSError:
        return False


def check_kernel(setting, choices, argument):
    """Returns `setting` if it is one of `choices`, else raises a `ValueError` naming `argument`.

    Example:
    >>> check_kernel("conv", DENSE_KERNELS, "inference_kernel")
    'conv'
    """
    if setting not in choices:
        raise ValueError(f"{argument}={setting!r} is not supported; use one of {list(choices)}.")
    return setting


def dense_kernel(setting, dtype):
    """The kernel a bias-only `FusedDense` runs in inference: `"matmul"` or `"conv"`.

    `"auto"` gives `"conv"` for bfloat16 on a oneDNN CPU with AMX, where
    oneDNN runs the 1x1 convolution on AMX but not the matmul of variable
    weights (see `FusedDense`); `"matmul"` everywhere else.

    Example:
    >>> dense_kernel("auto", "float32")
    'matmul'
    >>> dense_kernel("conv", "float32")
    'conv'
    """
    if setting != "auto":
        return setting
    return "conv" if dtype == "bfloat16" and cpu_has_amx() else "matmul"


def layer_norm_kernel(setting):
    """The kernel `FusedLayerNorm` runs in inference: `"batch_norm"` or `"keras"`.

    `"auto"` gives `"batch_norm"`, the op pattern oneDNN replaces by one
    kernel, where TensorFlow's oneDNN rewrites run (`onednn_cpu()`), and
    Keras' own ops elsewhere.

    Example:
    >>> layer_norm_kernel("keras")
    'keras'
    """
    if setting != "auto":
        return setting
    return "batch_norm" if onednn_cpu() else "keras"
