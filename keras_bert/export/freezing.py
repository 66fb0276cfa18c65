"""`freeze`: a serving function with its variables folded into constants."""

import inspect

import tensorflow as tf

from keras_bert.layers.fused_dense import tracing_for_frozen_weights


def freeze(serve):
    """`serve`, a `tf.function` with an `input_signature`, with every variable read turned into a constant.

    Why: Keras 3 variables captured by a `tf.Module` are not restored by
    TensorFlow's graph-mode (TF1) SavedModel loader, which TF Serving's C++
    loader and `saved_model_cli run` use (they fail with "Could not find
    variable ..."), and the TFLite converter keeps them as uninitialized
    resource variables. A function without variables loads everywhere.
    Inputs keep their argument names; outputs keep their dict keys.

    Example:
    >>> v = tf.Variable(2.0)
    >>> serve = tf.function(lambda x: {"y": x * v}, input_signature=[tf.TensorSpec([None], tf.float32)])
    >>> frozen = freeze(serve)
    >>> _ = v.assign(3.0)  # later changes do not reach the frozen function
    >>> frozen(tf.constant([1.0]))["y"].numpy().tolist()
    [2.0]
    """
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    with tracing_for_frozen_weights():  # a serving function not yet traced is traced for constant weights
        concrete = serve.get_concrete_function()
    constant = convert_variables_to_constants_v2(concrete)
    output_names = sorted(concrete.structured_outputs)  # the flat outputs come in tf.nest's (sorted) order
    arg_names = list(inspect.signature(serve.python_function).parameters)
    specs = [tf.TensorSpec(spec.shape, spec.dtype, name=name) for spec, name in zip(serve.input_signature, arg_names)]

    def call(*args):
        return dict(zip(output_names, constant(**dict(zip(arg_names, args)))))

    return tf.function(call, input_signature=specs)
