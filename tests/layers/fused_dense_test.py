import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_bert.export.freezing import freeze
from keras_bert.layers import FusedDense, TransformerBlock
from keras_bert.layers.cpu_kernels import dense_kernel, onednn_cpu
from keras_bert.layers.fused_dense import dense_as_conv
from keras_test_utils import bfloat16_rounded, executed_op_types, run_serialization_test


def _dense(rng, in_width=24, out_width=40, dtype="float32", **kwargs):
    dense = FusedDense(out_width, dtype=dtype, **kwargs)
    dense.build((None, in_width))
    dense.kernel.assign(rng.normal(size=dense.kernel.shape).astype("float32"))
    dense.bias.assign(rng.normal(size=dense.bias.shape).astype("float32"))
    return dense


@pytest.mark.parametrize("activation", [None, "gelu", "gelu_tanh", "relu", "tanh"])
def test_equals_keras_dense_with_the_activation_on_any_rank(activation):
    rng = np.random.default_rng(9)
    dense = _dense(rng, activation=activation)
    x = rng.normal(size=(3, 5, 24)).astype("float32")
    product = x @ dense.kernel.numpy() + dense.bias.numpy()
    expected = {
        None: product,
        "gelu": keras.activations.gelu(product, approximate=False),
        "gelu_tanh": keras.activations.gelu(product, approximate=True),
        "relu": np.maximum(product, 0),
        "tanh": np.tanh(product),
    }[activation]
    for training in (False, True):
        np.testing.assert_allclose(dense(x, training=training), expected, rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(tf.function(lambda x: dense(x, training=training))(x), expected,
                                   rtol=1e-5, atol=1e-5)


def test_training_dropout_comes_before_the_residual():
    rng = np.random.default_rng(10)
    dense = _dense(rng, dropout=0.5)
    x, residual = rng.normal(size=(64, 24)).astype("float32"), rng.normal(size=(64, 40)).astype("float32")
    projected = x @ dense.kernel.numpy() + dense.bias.numpy()
    got = np.asarray(dense(x, residual=residual, training=True)) - residual
    dropped = np.isclose(got, 0.0, atol=1e-6)
    assert 0.3 < dropped.mean() < 0.7
    np.testing.assert_allclose(got[~dropped], 2 * projected[~dropped], rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(dense(x, residual=residual), projected + residual, rtol=1e-5, atol=1e-5)


def test_serialization_keeps_the_settings():
    x = np.random.default_rng(11).normal(size=(2, 3, 24)).astype("float32")
    dense = FusedDense(8, activation="gelu", dropout=0.1, inference_kernel="matmul")
    dense(x)
    restored = run_serialization_test(dense, (x,))
    assert (restored.activation_name, restored.dropout, restored.inference_kernel) == ("gelu", 0.1, "matmul")


def test_bad_settings_name_the_argument():
    with pytest.raises(ValueError, match="activation='swish' is not supported"):
        FusedDense(3, activation="swish")
    with pytest.raises(ValueError, match="inference_kernel='amx' is not supported"):
        FusedDense(3, inference_kernel="amx")


def test_dense_as_conv_is_x_times_kernel_plus_bias_in_float32():
    rng = np.random.default_rng(0)
    x, kernel, bias = (rng.normal(size=shape).astype("float32") for shape in ((10, 24), (24, 40), (40,)))
    np.testing.assert_allclose(dense_as_conv(x, kernel, bias), x @ kernel + bias, rtol=1e-5, atol=1e-5)


def test_dense_as_conv_in_bfloat16_is_the_rounded_exact_product():
    rng = np.random.default_rng(1)
    x, kernel, bias = (bfloat16_rounded(rng.normal(size=shape)) for shape in ((64, 96), (96, 32), (32,)))
    exact = x @ kernel + bias  # float64 of the bfloat16 inputs
    got = dense_as_conv(*(tf.cast(a, "bfloat16") for a in (x, kernel, bias)))
    # float32 accumulation, then at most two roundings to bfloat16 (product,
    # then bias, where the add is not fused): each within 2^-9 of the terms.
    bound = 2**-8 * (np.abs(x) @ np.abs(kernel) + np.abs(bias))
    assert (np.abs(np.asarray(tf.cast(got, "float64")) - exact) <= bound).all()


def _ops(function, *args):
    """The op types of `function`'s graph, one entry per op."""
    return [op.type for op in tf.function(function).get_concrete_function(*args).graph.get_operations()]


@pytest.mark.parametrize("training", [True, False])
def test_the_convolution_only_for_inference_without_activation(training):
    dense = _dense(np.random.default_rng(2), dtype="mixed_bfloat16", inference_kernel="conv")
    gelu = _dense(np.random.default_rng(2), dtype="mixed_bfloat16", activation="gelu", inference_kernel="conv")
    x = tf.zeros((5, 24), "bfloat16")
    assert ("Conv2D" in _ops(lambda x: dense(x, training=training), x)) == (not training)
    assert "Conv2D" not in _ops(lambda x: gelu(x, training=False), x)
    matmul = _dense(np.random.default_rng(2), dtype="mixed_bfloat16", inference_kernel="matmul")
    assert "Conv2D" not in _ops(lambda x: matmul(x, training=False), x)


@pytest.mark.parametrize("kernel", ["matmul", "conv"])
def test_residual_is_added_on_either_path(kernel):
    rng = np.random.default_rng(5)
    dense = _dense(rng, inference_kernel=kernel)
    x, residual = rng.normal(size=(7, 24)).astype("float32"), rng.normal(size=(7, 40)).astype("float32")
    expected = x @ dense.kernel.numpy() + dense.bias.numpy() + residual
    got = tf.function(lambda x, r: dense(x, residual=r))(x, residual)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
    dense16 = _dense(rng, dtype="mixed_bfloat16", inference_kernel=kernel)
    dense16.set_weights(dense.get_weights())
    x16, residual16 = (bfloat16_rounded(a) for a in (x, residual))
    got16 = tf.function(lambda x, r: dense16(x, residual=r))(*(tf.cast(a, "bfloat16") for a in (x16, residual16)))
    exact16 = x16 @ bfloat16_rounded(dense.kernel) + bfloat16_rounded(dense.bias) + residual16
    bound = 2**-7 * (np.abs(x16) @ np.abs(bfloat16_rounded(dense.kernel)) + np.abs(dense.bias) + np.abs(residual16))
    assert (np.abs(bfloat16_rounded(got16) - exact16) <= bound).all()


def test_auto_runs_only_bfloat16_as_a_convolution():
    assert dense_kernel("auto", "float32") == "matmul"
    assert dense_kernel("auto", "float16") == "matmul"


def _block(policy="mixed_bfloat16", kernel="auto"):
    """A built small block whose layers take `policy`."""
    block = TransformerBlock(num_heads=2, intermediate_size=32, dense_inference_kernel=kernel, dtype=policy)
    block(np.zeros((2, 6, 16), "float32"))
    return block


def test_block_in_bfloat16_inference_agrees_either_way():
    rng = np.random.default_rng(3)
    reference = _block("float32")
    weights = [rng.normal(scale=0.5, size=w.shape).astype("float32") for w in reference.get_weights()]
    reference.set_weights(weights)
    x = rng.normal(size=(2, 6, 16)).astype("float32")
    outputs = {}
    for kernel in ("matmul", "conv"):
        block = _block(kernel=kernel)
        block.set_weights(weights)
        outputs[kernel] = np.asarray(tf.function(lambda x: block(x, training=False))(x), "float32")
    float32 = np.asarray(reference(x, training=False))
    # Either path is a bfloat16 rendering of the float32 block, equally close.
    for kernel in outputs:
        np.testing.assert_allclose(outputs[kernel], float32, atol=0.1)
    np.testing.assert_allclose(outputs["conv"], outputs["matmul"], atol=0.1)


def test_block_runs_its_bias_only_projections_as_convolutions_in_inference_only():
    block = _block(kernel="conv")
    x = tf.zeros((2, 6, 16))
    for training, convolutions in ((False, 5), (True, 0)):  # query, key, value, attention output, output
        assert _ops(lambda x: block(x, training=training), x).count("Conv2D") == convolutions


@pytest.mark.skipif(not onednn_cpu(), reason="TensorFlow's oneDNN rewrite is off on this host")
@pytest.mark.parametrize("policy", ["float32", "mixed_bfloat16"])
@pytest.mark.parametrize("shapes", ["static", "dynamic", "frozen"])
def test_block_inference_runs_each_projection_and_layer_norm_as_one_kernel(policy, shapes):
    # As exported: frozen weights take the matmul (oneDNN lays constants out for AMX once); live
    # weights take what "auto" chooses on this host (1x1 convolutions for bfloat16 on AMX).
    block = _block(policy, kernel="matmul" if shapes == "frozen" else "auto")
    convolutions = 5 if shapes != "frozen" and dense_kernel("auto", block.compute_dtype) == "conv" else 0
    x = np.random.default_rng(5).normal(size=(2, 6, 16)).astype("float32")
    # Frozen weights are constants, which grappler folds: an all-zero bias
    # or beta would vanish with its add (fresh layers have them), and a
    # pattern with it. Trained weights are not zero.
    block.set_weights([w + 0.01 for w in block.get_weights()])
    reference = _block("float32")
    reference.set_weights(block.get_weights())
    if shapes == "static":
        function = tf.function(lambda x: block(x, training=False))
    else:  # as exported: any batch and length
        function = tf.function(lambda x: {"y": block(x, training=False)},
                               input_signature=[tf.TensorSpec([None, None, 16], tf.float32)])
        function = freeze(function) if shapes == "frozen" else function
    ops = executed_op_types(function, x)
    # Six projections, each one kernel with its bias (and GELU, or the
    # residual add), and two layer norms: no op left over from them.
    assert ops.count("_FusedConv2D") + ops.count("_FusedMatMul") == 6, ops
    assert ops.count("_FusedConv2D") == convolutions, ops
    assert ops.count("_MklLayerNorm") == 2, ops
    for unfused in ("BiasAdd", "AddV2", "FusedBatchNormV3", "Erfc", "Mean"):
        assert unfused not in ops, ops
    outputs = function(x)
    outputs = np.asarray(outputs["y"] if shapes != "static" else outputs, "float32")
    tolerance = 0.05 if policy == "mixed_bfloat16" else 1e-5  # bfloat16: a rendering of the float32 block
    np.testing.assert_allclose(outputs, reference(x, training=False), atol=tolerance)
