"""`freeze`: a serving function with its variables folded into constants."""

import inspect

import tensorflow as tf

from keras_bert.layers.int8_kernels import constant_kernels
from keras_bert.private_apis import variables_to_constants


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
    with constant_kernels():  # they are constants once frozen, so oneDNN may keep its own layout of them
        concrete = serve.get_concrete_function()
    constant = variables_to_constants(concrete)
    output_names = sorted(concrete.structured_outputs)  # the flat outputs come in tf.nest's (sorted) order
    arg_names = list(inspect.signature(serve.python_function).parameters)
    specs = [tf.TensorSpec(spec.shape, spec.dtype, name=name) for spec, name in zip(serve.input_signature, arg_names)]
    # Other captured resources (a tokenizer's vocabulary table) stay resources:
    # the frozen function takes them after its arguments.
    captured = {internal.name: external for external, internal in concrete.graph.captures}
    resources = [captured[tensor.name] for tensor in constant.inputs[len(arg_names):]]

    def call(*args):
        return dict(zip(output_names, constant(*args, *resources)))

    return tf.function(call, input_signature=specs)


def model_to_freeze(model, precision=None, quantize=None, skip_padding=True):
    """A copy of a task model, with its weights, built for a frozen serving graph.

    Its bias-only projections run as matmuls (`FusedDense`'s
    `inference_kernel="matmul"`): with constant weights oneDNN lays them out
    for AMX once, so the matmul beats the convolution chosen for variables.
    Its blocks skip padding (`BertEncoder`'s `skip_padding`), unless told
    not to: a served batch of mixed lengths costs its tokens, not
    `batch * longest`.
    With `precision`, the copy computes in that dtype policy (the encoder's
    `dtype`, which its heads follow). With `quantize="int8"`, the encoder's
    projections are quantized (`BertEncoder.quantize`).

    Args:
        model: a `BertTaskModel`.
        precision: optional Keras dtype policy name, e.g. `"mixed_bfloat16"`.
        quantize: optional `"int8"`.
        skip_padding: bool. Defaults to `True`.

    Example:
    >>> from keras_bert.models import BertClassifier, BertEncoder
    >>> encoder = BertEncoder(vocab_size=23, hidden_size=8, num_layers=1,
    ...                       num_attention_heads=2, intermediate_size=12)
    >>> copy = model_to_freeze(BertClassifier(encoder, 2), "mixed_bfloat16")
    >>> copy.encoder.dense_inference_kernel, copy.encoder.skip_padding, copy.encoder.dtype_policy.name
    ('matmul', True, 'mixed_bfloat16')
    """
    settings = {"dense_inference_kernel": "matmul", "skip_padding": skip_padding}
    if precision is not None:
        settings["dtype"] = precision
    copy = model.with_encoder_settings(**settings)
    if quantize is not None:
        copy.encoder.quantize(quantize)
    return copy
