import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_bert.layers import TransformerBlock
from keras_bert.layers.fused_dense import onednn_cpu
from keras_bert.layers.fused_layer_norm import fused_layer_norm
from keras_test_utils import bfloat16_rounded, executed_op_types

needs_onednn = pytest.mark.skipif(not onednn_cpu(), reason="TensorFlow's oneDNN rewrite is off on this host")


def _layer_norm(rng, width=48, dtype="float32"):
    layer = keras.layers.LayerNormalization(epsilon=1e-12, dtype=dtype)
    layer.build((None, width))
    layer.gamma.assign(rng.normal(size=width).astype("float32"))
    layer.beta.assign(rng.normal(size=width).astype("float32"))
    return layer


def _reference(x, layer):
    """Layer norm in float64 of the given (already rounded) inputs."""
    x = np.asarray(x, "float64")
    mean, variance = x.mean(-1, keepdims=True), x.var(-1, keepdims=True)
    return (x - mean) / np.sqrt(variance + layer.epsilon) * layer.gamma.numpy() + layer.beta.numpy()


def _inputs(rng, rows=30, width=48):
    # Rows of all scales, means of about their spread (as hidden states);
    # the first have variance 1e-8, where an epsilon raised to cuDNN's 1e-5
    # would shrink the output 30-fold.
    scales = np.geomspace(1e-4, 1e2, rows)[:, None]
    return ((rng.normal(size=(rows, width)) + rng.normal(size=(rows, 1))) * scales).astype("float32")


def test_float32_in_a_function_is_layer_norm_with_the_exact_epsilon():
    rng = np.random.default_rng(0)
    layer, x = _layer_norm(rng), _inputs(rng)
    got = tf.function(lambda x: fused_layer_norm(x, layer))(x)
    np.testing.assert_allclose(got, _reference(x, layer), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(got, layer(x), rtol=1e-4, atol=1e-4)


def test_bfloat16_is_the_exact_layer_norm_rounded_once():
    rng = np.random.default_rng(1)
    layer = _layer_norm(rng, dtype="mixed_bfloat16")
    x = bfloat16_rounded(_inputs(rng))
    got = bfloat16_rounded(tf.function(lambda x: fused_layer_norm(x, layer))(x))
    # Exact, of the bfloat16 input and of gamma and beta as the layer rounds them.
    normalized = (x - x.mean(-1, keepdims=True)) / np.sqrt(x.var(-1, keepdims=True) + layer.epsilon)
    exact = normalized * bfloat16_rounded(layer.gamma) + bfloat16_rounded(layer.beta)
    # One rounding to bfloat16 (2^-9 relative), plus float32 statistics.
    assert (np.abs(got - exact) <= 2**-8 * np.abs(exact) + 1e-3).all()


@needs_onednn
@pytest.mark.parametrize("dtype", ["float32", "mixed_bfloat16"])
def test_runs_as_one_onednn_layer_norm_kernel(dtype):
    layer = _layer_norm(np.random.default_rng(2), dtype=dtype)
    for rows in (None, 30):  # a static row count must not stop the rewrite
        function = tf.function(
            lambda x: fused_layer_norm(x, layer), input_signature=[tf.TensorSpec((rows, 48))]
        )
        ops = executed_op_types(function, np.ones((30, 48), "float32"))
        assert "_MklLayerNorm" in ops and "FusedBatchNormV3" not in ops, ops


@needs_onednn
def test_eager_and_xla_inference_keep_keras_ops(monkeypatch):
    layer = _layer_norm(np.random.default_rng(3))
    x = _inputs(np.random.default_rng(3), rows=4)

    def pattern_written(*args, **kwargs):
        raise AssertionError("the fused pattern was written")

    monkeypatch.setattr(tf.compat.v1.nn, "fused_batch_norm", pattern_written)
    with pytest.raises(AssertionError, match="pattern was written"):  # the inference graph does write it
        tf.function(lambda x: fused_layer_norm(x, layer))(x)
    # XLA compiles what it is given (no oneDNN rewrite there); eager runs no rewrite at all.
    for call in (
        tf.function(lambda x: fused_layer_norm(x, layer), jit_compile=True),
        lambda x: fused_layer_norm(x, layer),
    ):
        np.testing.assert_allclose(call(x), layer(x), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("dtype", ["float32", "mixed_bfloat16"])
def test_training_runs_the_xla_kernels_with_keras_values_and_gradients(dtype):
    rng = np.random.default_rng(7)
    layer = _layer_norm(rng, dtype=dtype)
    x = tf.cast(_inputs(rng, rows=12), layer.compute_dtype)
    upstream = tf.cast(rng.normal(size=x.shape), layer.compute_dtype)

    def value_and_gradients(call):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = call(x)
        return [y, *tape.gradient(y, [x, layer.gamma, layer.beta], upstream)]

    training = tf.function(lambda: value_and_gradients(lambda x: fused_layer_norm(x, layer, training=True)))
    ops = executed_op_types(training)
    assert "Mean" not in ops and "FusedBatchNormV3" not in ops and "_MklLayerNorm" not in ops, ops
    got, expected = training(), value_and_gradients(layer)
    assert got[0].dtype == expected[0].dtype
    # bfloat16: the same float32 computation, each side rounded once.
    tolerance = 1e-5 if dtype == "float32" else 2**-7
    for ours, keras_ops in zip(got, expected):
        ours, keras_ops = np.asarray(tf.cast(ours, "float64")), np.asarray(tf.cast(keras_ops, "float64"))
        np.testing.assert_allclose(ours, keras_ops, rtol=tolerance, atol=tolerance * np.abs(keras_ops).max())


def test_an_unbuilt_layer_is_built_by_its_own_call():
    layer = keras.layers.LayerNormalization(epsilon=1e-12)
    x = _inputs(np.random.default_rng(6))
    got = tf.function(lambda x: fused_layer_norm(x, layer))(x)
    assert layer.built
    np.testing.assert_allclose(got, _reference(x, layer), rtol=1e-4, atol=1e-4)


def test_gradients_of_an_inference_call_are_layer_norms():
    rng = np.random.default_rng(4)
    layer, x = _layer_norm(rng), tf.constant(_inputs(rng, rows=6))
    upstream = rng.normal(size=x.shape).astype("float32")

    def gradients(call):
        with tf.GradientTape() as tape:
            tape.watch(x)
            loss = tf.reduce_sum(call(x) * upstream)
        return tape.gradient(loss, [x, layer.gamma, layer.beta])

    ours = tf.function(lambda: gradients(lambda x: fused_layer_norm(x, layer)))()
    keras_ops = gradients(layer)
    for got, expected in zip(ours, keras_ops):
        np.testing.assert_allclose(got, expected, rtol=1e-3, atol=1e-3)


def test_block_inference_in_a_function_matches_eager():
    rng = np.random.default_rng(5)
    block = TransformerBlock(num_heads=2, intermediate_size=32)
    x = rng.normal(size=(2, 6, 16)).astype("float32")
    eager = block(x, training=False)  # Keras' LayerNorm ops
    np.testing.assert_allclose(tf.function(lambda x: block(x, training=False))(x), eager, atol=1e-5)
