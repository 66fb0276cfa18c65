"""Every private TensorFlow and Keras API keras_bert relies on, in one place.

Each entry below is here because no public API does the job; each says why.
`tests/private_apis_test.py` exercises all of them, so an upgrade of
TensorFlow or Keras that moves or changes one fails there first, by name.

Keras hooks that our subclasses override rather than call
(`KERAS_OPTIMIZER_HOOKS`, `KERAS_MODEL_HOOKS`) are listed with their
signatures, and the test checks the base classes still have them.
"""

# Hooks of `keras.optimizers.Optimizer` / `Adam` that `BertAdamW` overrides or
# reads: Keras offers no public way to fold the clip into the update kernel,
# to skip the separate weight-decay pass, or to reach a variable's moments.
# The TensorFlow backend's update step (all-reduce, then update) is rebuilt
# from its parts to clip the summed gradient rather than each replica's
# (`optimizer._ClipTheSummedGradient`, which also calls TensorFlow's
# `tf.__internal__.distribute.interim.maybe_merge_call`, as Keras does there).
KERAS_OPTIMIZER_HOOKS = {
    "_clip_gradients": ("self", "grads"),
    "_backend_update_step": ("self", "grads", "trainable_variables", "learning_rate"),
    "_all_reduce_sum_gradients": ("self", "grads_and_vars"),
    "_distributed_tf_update_step": ("self", "distribution", "grads_and_vars", "learning_rate"),
    "_apply_weight_decay": ("self", "variables"),
    "_use_weight_decay": ("self", "variable"),
    "_get_variable_index": ("self", "variable"),
}
# Hook of `keras.Model` that `BertTaskModel` overrides: under a strategy Keras
# builds metrics from a first batch taken from the training iterator (which
# then skips it) and averaged across replicas (which MultiWorkerMirrored
# rejects for dict inputs); only this hook decides where that batch comes from.
KERAS_MODEL_HOOKS = {"_maybe_symbolic_build": ("self", "iterator", "data_batch")}
# Hooks of `keras.layers.Dense` that `FusedDense` overrides or calls once
# quantized to int8: Keras' `__call__` sends a quantized layer to
# `quantized_call`, not `call`, and `_int8_call` is Keras' int8 matmul, which
# `FusedDense` runs where oneDNN's int8 kernel is not available.
KERAS_DENSE_HOOKS = {"quantized_call": ("self", "args", "kwargs"), "_int8_call": ("self", "inputs", "training")}


def onednn_enabled():
    """Whether this TensorFlow build runs its oneDNN graph rewrites (no public query exists).

    False where TensorFlow was built without oneDNN or it is turned off
    (`TF_ENABLE_ONEDNN_OPTS=0`).

    Example:
    >>> isinstance(onednn_enabled(), bool)
    True
    """
    from tensorflow.python.util import _pywrap_util_port

    return bool(_pywrap_util_port.IsMklEnabled())


def variables_to_constants(concrete_function):
    """`concrete_function` with every variable it reads folded into a constant.

    TensorFlow's freezing (`convert_variables_to_constants_v2`) has no public
    home in TF2; TFLite's converter and TF Serving tooling use the same one.

    Example:
    >>> import tensorflow as tf
    >>> v = tf.Variable(2.0)
    >>> f = tf.function(lambda: v * 3.0).get_concrete_function()
    >>> float(variables_to_constants(f)()[0])
    6.0
    """
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    return convert_variables_to_constants_v2(concrete_function)


def read_saved_model(export_dir):
    """The `SavedModel` protocol buffer of `export_dir/saved_model.pb`, unexecuted.

    Loading (`tf.saved_model.load`) runs the model's init ops and needs
    every op registered; the proto message class has no public home.

    Example:
    >>> import tempfile, tensorflow as tf
    >>> path = tempfile.mkdtemp()
    >>> tf.saved_model.save(tf.Module(), path)
    >>> len(read_saved_model(path).meta_graphs)
    1
    """
    from tensorflow.core.protobuf import saved_model_pb2

    saved_model = saved_model_pb2.SavedModel()
    with open(f"{export_dir}/saved_model.pb", "rb") as f:
        saved_model.ParseFromString(f.read())
    return saved_model


def adam_slots(optimizer, variable):
    """`(momentum, velocity)`: the Adam moments a Keras Adam-family optimizer keeps for `variable`.

    Keras keeps them in private lists indexed by a private method; there is
    no public accessor.

    Example:
    >>> import keras
    >>> optimizer = keras.optimizers.AdamW()
    >>> weights = keras.Variable([1.0, 2.0])
    >>> optimizer.build([weights])
    >>> [tuple(slot.shape) for slot in adam_slots(optimizer, weights)]
    [(2,), (2,)]
    """
    index = optimizer._get_variable_index(variable)
    return optimizer._momentums[index], optimizer._velocities[index]


def uses_weight_decay(optimizer, variable):
    """Whether `optimizer` decays `variable` (its `exclude_from_weight_decay` rules applied).

    Example:
    >>> import keras
    >>> optimizer = keras.optimizers.AdamW(weight_decay=0.1)
    >>> optimizer.exclude_from_weight_decay(var_names=["bias"])
    >>> uses_weight_decay(optimizer, keras.Variable([1.0], name="bias"))
    False
    """
    return optimizer._use_weight_decay(variable)


def model_distribute_strategy(model):
    """The strategy `model` was created under, or None if it was built outside any scope.

    `model.distribute_strategy` is public but falls back to the current
    default strategy; the hook that builds metrics must know whether one
    was set.

    Example:
    >>> import keras
    >>> model_distribute_strategy(keras.Sequential([keras.layers.Dense(1)])) is None
    True
    """
    return model._distribute_strategy


def onednn_quantized_matmul(inputs, fused_ops, output_dtype, input_quant_mode="SCALED", constant_kernel=False):
    """Builds TensorFlow's oneDNN `_QuantizedMatMul` op (int8 inputs and weights, fused epilogue).

    The op ships in TensorFlow's x86 builds and is what Intel's Neural
    Compressor writes into int8 graphs, but it has no Python wrapper: op
    names starting with `_` are left out of `tf.raw_ops`. Its public
    predecessor `QuantizedMatMulWithBiasAndDequantize` takes no per-channel
    weight scales, no fused activation or residual and no bfloat16 output,
    and its `MIN_FIRST` mode is wrong under oneDNN 3 (the bias compensation
    is added in accumulator units); this one is right.

    Args:
        inputs: `[x (qint8|quint8), kernel (qint8), bias, (addend,) min_x,
            max_x, min_kernel, max_kernel]`, as the kernel reads them.
        fused_ops: e.g. `["BiasAdd", "Dequantize"]`, `["BiasAdd",
            "GeluExact", "Dequantize"]` or `["BiasAdd", "Add", "Dequantize"]`.
        output_dtype: `tf.float32` or `tf.bfloat16`.
        input_quant_mode: `"SCALED"` (symmetric) or `"MIN_FIRST"`.
        constant_kernel: bool. Whether the kernel never changes, so the op
            may keep it reordered for oneDNN after its first run. Wrong
            results follow if it does change (a variable assigned to, or a
            kernel passed as an argument).

    Returns:
        The op's output tensor. Graph mode only (inside a `tf.function`).
    """
    import tensorflow as tf
    from tensorflow.python.framework import op_def_library

    addend_dtype = inputs[3].dtype if "Add" in fused_ops else tf.float32
    outputs = op_def_library._apply_op_helper(
        "_QuantizedMatMul", name="QuantizedMatMul", device_inputs=inputs, host_inputs=[],
        T1=inputs[0].dtype, T2=inputs[1].dtype, Tbias=inputs[2].dtype, U=addend_dtype, Tout=output_dtype,
        Tdevice_outputs=[output_dtype], Thost_outputs=[], fused_ops=list(fused_ops),
        input_quant_mode=input_quant_mode, output_quant_mode="SCALED", transpose_a=False, transpose_b=False,
        is_weight_const=constant_kernel, is_bias_const=constant_kernel, leakyrelu_alpha=0.2,
    )
    return outputs[2].outputs[0]
