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
