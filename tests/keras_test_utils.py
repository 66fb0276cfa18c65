"""Helpers for layer and model tests: config and `.keras` round trips, bfloat16 rounding, the ops TensorFlow ran."""

import os
import tempfile

import keras
import numpy as np
import tensorflow as tf
from tensorflow.python.eager import context  # private: run metadata of executed graphs


def run_serialization_test(obj, call_inputs, call_kwargs=None):
    """Checks that `obj` survives `get_config` and a `.keras` save/load unchanged.

    Args:
        obj: a built `keras.layers.Layer` or `keras.Model`.
        call_inputs: tuple, positional inputs of `obj`'s call.
        call_kwargs: dict, keyword inputs of `obj`'s call.

    Asserts that the revived config equals the original, and that the object
    loaded from `.keras` (same weights) gives identical outputs. A layer is
    saved inside a functional model, the way users save it. Returns the
    revived object.
    """
    call_kwargs = call_kwargs or {}
    expected = keras.tree.map_structure(np.asarray, obj(*call_inputs, **call_kwargs))

    config = obj.get_config()
    assert obj.__class__.from_config(config).get_config() == config

    if isinstance(obj, keras.Model):
        model, model_inputs = obj, call_inputs
    else:
        model, model_inputs = _functional_model(obj, call_inputs, call_kwargs)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "object.keras")
        model.save(path)
        loaded = keras.saving.load_model(path)
    revived = loaded if isinstance(obj, keras.Model) else loaded.layers[-1]
    assert type(revived) is type(obj)
    got = keras.tree.map_structure(np.asarray, loaded(*model_inputs))
    keras.tree.map_structure(np.testing.assert_array_equal, got, expected)
    return revived


def _functional_model(layer, call_inputs, call_kwargs):
    """`(model, inputs)`: a functional model calling `layer`, and its inputs."""

    def symbolic(value):
        value = np.asarray(value)
        return keras.Input(batch_shape=value.shape, dtype=value.dtype.name)

    args = [symbolic(x) for x in call_inputs]
    kwargs = {name: symbolic(x) for name, x in call_kwargs.items()}
    model = keras.Model(args + list(kwargs.values()), layer(*args, **kwargs))
    return model, (list(call_inputs) + list(call_kwargs.values()),)


def bfloat16_rounded(array):
    """`array` rounded to bfloat16 (as TensorFlow rounds), as a float64 numpy array."""
    return np.asarray(tf.cast(tf.cast(array, "bfloat16"), "float64"))


def executed_op_types(function, *args):
    """Op types TensorFlow ran for `function(*args)`, after its graph rewrites.

    For a `tf.function`, the nodes of its executed graph once grappler and
    oneDNN have rewritten it (`_MklLayerNorm`, `_FusedConv2D`, ...): what a
    test of a fusion has to look at. TensorFlow reports a graph when it is
    first instantiated, so `function` must not have run before; graphs of
    other functions instantiated meanwhile (a leftover tf.data iterator's,
    say) are told apart by their node names.
    """
    names = None
    if hasattr(function, "get_concrete_function"):
        names = {op.name for op in function.get_concrete_function(*args).graph.get_operations()}
    context.enable_run_metadata()
    try:
        function(*args)
        metadata = context.export_run_metadata()
    finally:
        context.disable_run_metadata()
    graphs = list(metadata.function_graphs)
    if names is not None:

        def shared_names(graph):
            return len(names & {node.name for node in graph.pre_optimization_graph.node})

        graphs = [max(graphs, key=shared_names)] if graphs else []
        if not graphs or not shared_names(graphs[0]):
            raise ValueError("executed_op_types needs a tf.function that has not run yet.")
    return [node.op for graph in graphs for node in graph.post_optimization_graph.node]


def pretraining_inputs(rng, batch=3, seq=10, predictions=4, vocab=50):
    """Random `BertPretrainer` inputs: row 0 padded after 7 tokens, predictions among positions 1-6."""
    mask = np.ones((batch, seq), "int32")
    mask[0, 7:] = 0
    return {
        "input_word_ids": rng.integers(5, vocab, (batch, seq)).astype("int32") * mask,
        "input_mask": mask,
        "input_type_ids": np.repeat([[0] * 5 + [1] * (seq - 5)], batch, 0).astype("int32") * mask,
        "masked_lm_positions": np.array(
            [sorted(rng.choice(np.arange(1, 7), predictions, replace=False)) for _ in range(batch)], "int32"
        ),
    }
