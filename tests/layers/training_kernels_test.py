import keras
import numpy as np
import pytest
import tensorflow as tf
from scipy.special import erf

from keras_bert.layers import TransformerBlock
from keras_bert.layers.training_kernels import gelu, layer_norm
from keras_test_utils import bfloat16_rounded, executed_op_types


def _exact(x):
    """GELU and its derivative in float64 from scipy's erf (the independent reference)."""
    cdf = 0.5 * (1 + erf(x / np.sqrt(2)))
    pdf = np.exp(-0.5 * x * x) / np.sqrt(2 * np.pi)
    return x * cdf, cdf + x * pdf


def _value_and_gradient(x, upstream):
    x = tf.convert_to_tensor(x)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = gelu(x)
    return np.asarray(tf.cast(y, "float64")), np.asarray(tf.cast(tape.gradient(y, x, upstream), "float64"))


@pytest.mark.parametrize("dtype, tolerance", [("float64", 1e-12), ("float32", 1e-6)])
def test_value_and_gradient_equal_the_exact_gelu(dtype, tolerance):
    x = np.random.default_rng(0).normal(scale=3, size=(64, 48)).astype(dtype)
    upstream = np.random.default_rng(1).normal(size=x.shape).astype(dtype)
    value, gradient = _value_and_gradient(x, upstream)
    exact_value, exact_derivative = _exact(x.astype("float64"))
    np.testing.assert_allclose(value, exact_value, rtol=tolerance, atol=tolerance)
    np.testing.assert_allclose(gradient, upstream * exact_derivative, rtol=tolerance, atol=tolerance)


def test_bfloat16_is_rounded_once_from_the_exact_values():
    x = bfloat16_rounded(np.random.default_rng(2).normal(scale=3, size=(128, 96)))
    upstream = bfloat16_rounded(np.random.default_rng(3).normal(size=x.shape))
    value, gradient = _value_and_gradient(tf.cast(x, "bfloat16"), tf.cast(upstream, "bfloat16"))
    exact_value, exact_derivative = _exact(x)
    # Float32 inside, one rounding at the end: the bfloat16 nearest the exact
    # value, bar ties the float32 error tips over.
    assert np.mean(value == bfloat16_rounded(exact_value)) > 0.99
    assert np.mean(gradient == bfloat16_rounded(upstream * exact_derivative)) > 0.99
    # Keras' GELU, rounded at each of its ops, is further off.
    keras_value = np.asarray(tf.cast(keras.activations.gelu(tf.cast(x, "bfloat16"), approximate=False), "float64"))
    assert np.abs(value - exact_value).max() < np.abs(keras_value - exact_value).max()


def test_layer_norm_of_any_rank_equals_keras_in_float64():
    # Keras' layer norm differentiated by TensorFlow is the reference; the
    # scale and offset gradients sum over every leading axis.
    rng = np.random.default_rng(6)
    layer = keras.layers.LayerNormalization(epsilon=1e-6, dtype="float64")
    layer.build((None, None, 10))
    layer.gamma.assign(rng.normal(size=10))
    layer.beta.assign(rng.normal(size=10))
    x = tf.constant(rng.normal(size=(3, 5, 10)) * rng.uniform(0.01, 10, size=(3, 5, 1)) + 2)
    upstream = rng.normal(size=x.shape)

    def value_and_gradients(call):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = call(x)
        return [y, *tape.gradient(y, [x, layer.gamma, layer.beta], upstream)]

    got = value_and_gradients(lambda x: layer_norm(x, layer.gamma, layer.beta, layer.epsilon))
    for ours, expected in zip(got, value_and_gradients(layer)):
        np.testing.assert_allclose(ours, expected, rtol=1e-10, atol=1e-10)


def test_forward_and_gradient_run_compiled_by_xla():
    x = tf.constant(np.linspace(-4, 4, 96, dtype="float32").reshape(8, 12))

    @tf.function
    def value_and_gradient(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = gelu(x)
        return y, tape.gradient(y, x)

    # Each kernel stays a call of its XLA-compiled function; TensorFlow's
    # GELU would show as Erfc, Mul, Neg, ... here.
    ops = executed_op_types(value_and_gradient, x)
    assert sorted(op for op in ops if op not in ("_Arg", "_Retval", "Const")) == ["PartitionedCall"] * 2, ops


def test_transformer_block_trains_with_it_and_matches_inference_gelu():
    # Without dropout a training call computes what inference does: the
    # training GELU (XLA) against oneDNN's fused one, in value and gradient.
    keras.utils.set_random_seed(4)
    block = TransformerBlock(num_heads=2, intermediate_size=64, dropout=0.0, attention_dropout=0.0)
    x = tf.constant(np.random.default_rng(5).normal(size=(3, 7, 16)).astype("float32"))
    block(x)
    results = {}
    for training in (True, False):
        with tf.GradientTape() as tape:
            y = block(x, training=training)
            loss = tf.reduce_sum(y * tf.sin(y))
        results[training] = (y, tape.gradient(loss, block.trainable_variables))
    np.testing.assert_allclose(results[True][0], results[False][0], rtol=1e-5, atol=1e-5)
    for trained, inferred in zip(results[True][1], results[False][1]):
        np.testing.assert_allclose(trained, inferred, rtol=1e-4, atol=1e-5)


def test_transformer_block_training_graph_has_no_tensorflow_gelu():
    block = TransformerBlock(num_heads=2, intermediate_size=64)
    x = tf.constant(np.ones((2, 5, 16), "float32"))
    block(x)

    @tf.function
    def gradients(x):
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(block(x, training=True))
        return tape.gradient(loss, block.trainable_variables)

    ops = executed_op_types(gradients, x)
    assert "Erfc" not in ops and "Erf" not in ops
