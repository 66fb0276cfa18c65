import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_bert.export.freezing import freeze
from keras_bert.layers import TransformerBlock
from keras_bert.layers import fused_dense as fused_dense_module
from keras_bert.layers.fused_dense import bfloat16_conv_is_faster, dense_as_conv, fused_dense, onednn_cpu
from keras_test_utils import bfloat16_rounded, executed_op_types


def _dense(rng, in_width=24, out_width=40):
    dense = keras.layers.Dense(out_width)
    dense.build((None, in_width))
    dense.kernel.assign(rng.normal(size=dense.kernel.shape).astype("float32"))
    dense.bias.assign(rng.normal(size=dense.bias.shape).astype("float32"))
    return dense


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
def test_the_convolution_only_for_bfloat16_inference_without_activation(monkeypatch, training):
    monkeypatch.setattr(fused_dense_module, "_cpu_has_onednn_amx", lambda: True)
    dense = _dense(np.random.default_rng(2))
    x = tf.zeros((5, 24), "bfloat16")
    conv = "Conv2D" in _ops(lambda x: fused_dense(x, dense, "bfloat16", training=training), x)
    assert conv == (not training)
    assert "Conv2D" not in _ops(lambda x: fused_dense(x, dense, "bfloat16", "gelu", training=False), x)
    assert "Conv2D" not in _ops(lambda x: fused_dense(x, dense, "float32"), tf.zeros((5, 24)))


@pytest.mark.parametrize("conv", [False, True])
def test_residual_is_added_on_either_path(monkeypatch, conv):
    monkeypatch.setattr(fused_dense_module, "_cpu_has_onednn_amx", lambda: conv)
    rng = np.random.default_rng(5)
    dense = _dense(rng)
    x, residual = rng.normal(size=(7, 24)).astype("float32"), rng.normal(size=(7, 40)).astype("float32")
    expected = x @ dense.kernel.numpy() + dense.bias.numpy() + residual
    got = tf.function(lambda x, r: fused_dense(x, dense, "float32", residual=r))(x, residual)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
    x16, residual16 = (bfloat16_rounded(a) for a in (x, residual))
    got16 = tf.function(lambda x, r: fused_dense(x, dense, "bfloat16", residual=r))(
        *(tf.cast(a, "bfloat16") for a in (x16, residual16))
    )
    exact16 = x16 @ bfloat16_rounded(dense.kernel) + bfloat16_rounded(dense.bias) + residual16
    bound = 2**-7 * (np.abs(x16) @ np.abs(bfloat16_rounded(dense.kernel)) + np.abs(dense.bias) + np.abs(residual16))
    assert (np.abs(bfloat16_rounded(got16) - exact16) <= bound).all()


def test_only_bfloat16_is_ever_run_as_a_convolution():
    assert not bfloat16_conv_is_faster("float32")
    assert not bfloat16_conv_is_faster("float16")


def _block(policy="mixed_bfloat16"):
    """A built small block whose layers take `policy`."""
    keras.mixed_precision.set_global_policy(policy)
    try:
        block = TransformerBlock(num_heads=2, intermediate_size=32)
        block(np.zeros((2, 6, 16), "float32"))
    finally:
        keras.mixed_precision.set_global_policy("float32")
    return block


def test_block_in_bfloat16_inference_agrees_either_way(monkeypatch):
    rng = np.random.default_rng(3)
    block = _block()
    reference = TransformerBlock(num_heads=2, intermediate_size=32)
    reference(np.zeros((2, 6, 16), "float32"))
    weights = [rng.normal(scale=0.5, size=w.shape).astype("float32") for w in reference.get_weights()]
    block.set_weights(weights)
    reference.set_weights(weights)
    x = rng.normal(size=(2, 6, 16)).astype("float32")
    outputs = {}
    for conv in (False, True):
        monkeypatch.setattr(fused_dense_module, "_cpu_has_onednn_amx", lambda conv=conv: conv)
        outputs[conv] = np.asarray(tf.function(lambda x: block(x, training=False))(x), "float32")
    float32 = np.asarray(reference(x, training=False))
    # Either path is a bfloat16 rendering of the float32 block, equally close.
    for conv in (False, True):
        np.testing.assert_allclose(outputs[conv], float32, atol=0.1)
    np.testing.assert_allclose(outputs[True], outputs[False], atol=0.1)


def test_block_runs_its_bias_only_projections_as_convolutions_in_inference_only(monkeypatch):
    monkeypatch.setattr(fused_dense_module, "_cpu_has_onednn_amx", lambda: True)
    block = _block()
    x = tf.zeros((2, 6, 16))
    for training, convolutions in ((False, 5), (True, 0)):  # query, key, value, attention output, output
        assert _ops(lambda x: block(x, training=training), x).count("Conv2D") == convolutions


@pytest.mark.skipif(not onednn_cpu(), reason="TensorFlow's oneDNN rewrite is off on this host")
@pytest.mark.parametrize("policy", ["float32", "mixed_bfloat16"])
@pytest.mark.parametrize("shapes", ["static", "dynamic", "frozen"])
def test_block_inference_runs_each_projection_and_layer_norm_as_one_kernel(monkeypatch, policy, shapes):
    monkeypatch.setattr(fused_dense_module, "_cpu_has_onednn_amx", lambda: True)
    block, x = _block(policy), np.random.default_rng(5).normal(size=(2, 6, 16)).astype("float32")
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
    # Convolutions for bfloat16 variables; constant (frozen) weights are faster in the matmul.
    assert ops.count("_FusedConv2D") == (5 if policy == "mixed_bfloat16" and shapes != "frozen" else 0), ops
    assert ops.count("_MklLayerNorm") == 2, ops
    for unfused in ("BiasAdd", "AddV2", "FusedBatchNormV3", "Erfc", "Mean"):
        assert unfused not in ops, ops
    outputs = function(x)
    outputs = np.asarray(outputs["y"] if shapes != "static" else outputs, "float32")
    tolerance = 0.05 if policy == "mixed_bfloat16" else 1e-5  # bfloat16: a rendering of the float32 block
    np.testing.assert_allclose(outputs, reference(x, training=False), atol=tolerance)
