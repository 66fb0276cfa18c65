import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_bert.layers import FusedLayerNorm, TransformerBlock
from keras_bert.layers.cpu_kernels import onednn_cpu
from keras_test_utils import bfloat16_rounded, executed_op_types, run_serialization_test

needs_onednn = pytest.mark.skipif(not onednn_cpu(), reason="TensorFlow's oneDNN rewrite is off on this host")


def _layer_norm(rng, width=48, dtype="float32", kernel="batch_norm"):
    layer = FusedLayerNorm(epsilon=1e-12, dtype=dtype, inference_kernel=kernel)
    layer.build((None, width))
    layer.gamma.assign(rng.normal(size=width).astype("float32"))
    layer.beta.assign(rng.normal(size=width).astype("float32"))
    return layer


def _keras(layer):
    """Keras' own layer norm with `layer`'s configuration and weights."""
    config = {k: v for k, v in layer.get_config().items() if k != "inference_kernel"}
    keras_layer = keras.layers.LayerNormalization.from_config(config)
    keras_layer.build((None, layer.gamma.shape[0]))
    keras_layer.set_weights(layer.get_weights())
    return keras_layer


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
    got = tf.function(lambda x: layer(x))(x)
    np.testing.assert_allclose(got, _reference(x, layer), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(got, _keras(layer)(x), rtol=1e-4, atol=1e-4)


@needs_onednn  # one rounding is the fused kernel's; unfused, each op rounds
def test_bfloat16_is_the_exact_layer_norm_rounded_once():
    rng = np.random.default_rng(1)
    layer = _layer_norm(rng, dtype="mixed_bfloat16")
    x = bfloat16_rounded(_inputs(rng))
    got = bfloat16_rounded(tf.function(lambda x: layer(x))(x))
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
            lambda x: layer(x), input_signature=[tf.TensorSpec((rows, 48))]
        )
        ops = executed_op_types(function, np.ones((30, 48), "float32"))
        assert "_MklLayerNorm" in ops and "FusedBatchNormV3" not in ops, ops


@pytest.mark.parametrize("kernel", ["batch_norm", "keras"])
def test_every_kernel_is_layer_norm_eager_in_a_function_and_under_xla(kernel):
    rng = np.random.default_rng(3)
    layer, x = _layer_norm(rng, kernel=kernel), _inputs(rng, rows=4)
    for call in (layer, tf.function(lambda x: layer(x)), tf.function(lambda x: layer(x), jit_compile=True)):
        np.testing.assert_allclose(call(x), _reference(x, layer), rtol=1e-4, atol=1e-4)


def test_the_kernel_setting_chooses_the_ops():
    x = tf.zeros((4, 48))
    layers = {kernel: _layer_norm(np.random.default_rng(0), kernel=kernel) for kernel in ("batch_norm", "keras")}
    ops = {kernel: executed_op_types(tf.function(lambda x, layer=layer: layer(x)), x) for kernel, layer in layers.items()}
    assert "FusedBatchNormV3" in ops["batch_norm"] or "_MklLayerNorm" in ops["batch_norm"], ops["batch_norm"]
    assert "FusedBatchNormV3" not in ops["keras"] and "_MklLayerNorm" not in ops["keras"], ops["keras"]
    with pytest.raises(ValueError, match="inference_kernel='fast' is not supported"):
        FusedLayerNorm(inference_kernel="fast")


def test_serialization_keeps_the_kernel_setting():
    layer = _layer_norm(np.random.default_rng(4), kernel="keras")
    restored = run_serialization_test(layer, (_inputs(np.random.default_rng(4), rows=3),))
    assert restored.inference_kernel == "keras" and restored.epsilon == 1e-12


@pytest.mark.parametrize("dtype", ["float32", "mixed_bfloat16"])
def test_training_runs_the_xla_kernels_with_keras_values_and_gradients(dtype):
    rng = np.random.default_rng(7)
    layer = _layer_norm(rng, dtype=dtype)
    x = tf.cast(_inputs(rng, rows=12), layer.compute_dtype)
    upstream = tf.cast(rng.normal(size=x.shape), layer.compute_dtype)

    def value_and_gradients(layer, **kwargs):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = layer(x, **kwargs)
        return [y, *tape.gradient(y, [x, layer.gamma, layer.beta], upstream)]

    training = tf.function(lambda: value_and_gradients(layer, training=True))
    ops = executed_op_types(training)
    assert "Mean" not in ops and "FusedBatchNormV3" not in ops and "_MklLayerNorm" not in ops, ops
    got, expected = training(), value_and_gradients(_keras(layer))
    assert got[0].dtype == expected[0].dtype
    # bfloat16: the same float32 computation, each side rounded once.
    tolerance = 1e-5 if dtype == "float32" else 2**-7
    for ours, keras_ops in zip(got, expected):
        ours, keras_ops = np.asarray(tf.cast(ours, "float64")), np.asarray(tf.cast(keras_ops, "float64"))
        np.testing.assert_allclose(ours, keras_ops, rtol=tolerance, atol=tolerance * np.abs(keras_ops).max())


def test_an_unbuilt_layer_is_built_by_its_own_call():
    layer = FusedLayerNorm(epsilon=1e-12)
    x = _inputs(np.random.default_rng(6))
    got = tf.function(lambda x: layer(x))(x)
    assert layer.built
    np.testing.assert_allclose(got, _reference(x, layer), rtol=1e-4, atol=1e-4)


def test_gradients_of_an_inference_call_are_layer_norms():
    rng = np.random.default_rng(4)
    layer, x = _layer_norm(rng), tf.constant(_inputs(rng, rows=6))
    upstream = rng.normal(size=x.shape).astype("float32")

    def gradients(layer):
        with tf.GradientTape() as tape:
            tape.watch(x)
            loss = tf.reduce_sum(layer(x) * upstream)
        return tape.gradient(loss, [x, layer.gamma, layer.beta])

    ours = tf.function(lambda: gradients(layer))()
    keras_ops = gradients(_keras(layer))
    for got, expected in zip(ours, keras_ops):
        np.testing.assert_allclose(got, expected, rtol=1e-3, atol=1e-3)


def test_block_inference_in_a_function_matches_eager():
    rng = np.random.default_rng(5)
    block = TransformerBlock(num_heads=2, intermediate_size=32)
    x = rng.normal(size=(2, 6, 16)).astype("float32")
    eager = block(x, training=False)  # no oneDNN rewrite in eager
    np.testing.assert_allclose(tf.function(lambda x: block(x, training=False))(x), eager, atol=1e-5)
