"""The int8 projections: oneDNN's int8 kernel against a NumPy reference of the same quantization."""

import numpy as np
import pytest
import tensorflow as tf
from scipy.special import erf

from keras_bert.layers import FusedDense
from keras_bert.layers.cpu_kernels import onednn_cpu
from keras_bert.layers.int8_kernels import int8_dense, quantize_rows
from keras_bert.models import BertEncoder
from keras_test_utils import executed_op_types, run_serialization_test

pytestmark = pytest.mark.skipif(not onednn_cpu(), reason="oneDNN's int8 kernels run on x86 CPUs with oneDNN on")


def _reference(rows, kernel, kernel_scale, bias):
    """Symmetric per-batch activation codes in [-127, 127], integer products, then the two scales."""
    bound = np.abs(rows).max()
    codes = np.round(rows * 127.0 / bound)
    return (codes @ kernel.astype(np.float64)) * (bound / 127.0) / kernel_scale + bias


def _quantized(rng, in_width=48, units=40):
    kernel = rng.integers(-127, 128, (in_width, units)).astype(np.int8)
    return kernel, rng.uniform(50, 200, units).astype("float32"), rng.normal(size=units).astype("float32")


def test_quantize_rows_uses_the_batch_largest_magnitude():
    rows = np.array([[0.25, -2.0], [1.0, 0.0]], "float32")
    codes, low, high = quantize_rows(tf.constant(rows))
    assert tf.bitcast(codes, tf.int8).numpy().tolist() == [[16, -127], [64, 0]]  # round(x * 127 / 2)
    assert (float(low), float(high)) == (-2.0, 2.0)


@pytest.mark.parametrize("activation", [None, "gelu", "relu"])
def test_int8_dense_equals_the_reference_quantization(activation):
    rng = np.random.default_rng(0)
    kernel, kernel_scale, bias = _quantized(rng)
    rows = rng.normal(size=(64, 48)).astype("float32")
    product = _reference(rows, kernel, kernel_scale, bias)
    expected = {None: product, "relu": np.maximum(product, 0), "gelu": 0.5 * product * (1 + erf(product / 2**0.5))}
    served = tf.function(lambda x: int8_dense(x, kernel, kernel_scale, bias, activation))(rows)
    np.testing.assert_allclose(served, expected[activation], rtol=1e-4, atol=1e-4)
    # Eagerly too (through a function), and in bfloat16 out.
    np.testing.assert_allclose(int8_dense(rows, kernel, kernel_scale, bias, activation), served, atol=1e-6)
    bf16 = int8_dense(rows, kernel, kernel_scale, bias, activation, dtype="bfloat16")
    assert bf16.dtype == tf.bfloat16
    np.testing.assert_allclose(tf.cast(bf16, tf.float32), served, rtol=1e-2, atol=1e-2)


def test_int8_dense_adds_the_residual_in_the_kernel():
    rng = np.random.default_rng(1)
    kernel, kernel_scale, bias = _quantized(rng)
    rows, residual = rng.normal(size=(8, 48)).astype("float32"), rng.normal(size=(8, 40)).astype("float32")
    served = tf.function(lambda x, r: int8_dense(x, kernel, kernel_scale, bias, residual=r))(rows, residual)
    np.testing.assert_allclose(served, _reference(rows, kernel, kernel_scale, bias) + residual, rtol=1e-4, atol=1e-4)
    with pytest.raises(ValueError, match="an activation or a residual add, not both"):
        int8_dense(rows, kernel, kernel_scale, bias, "gelu", residual)


def _int8_dense_layer(rng, activation=None):
    dense = FusedDense(40, activation=activation)
    dense.build((None, 48))
    dense.kernel.assign(rng.normal(size=(48, 40)).astype("float32") * 0.1)
    dense.bias.assign(rng.normal(size=40).astype("float32"))
    float_dense = FusedDense.from_config(dense.get_config())
    float_dense.build((None, 48))
    float_dense.set_weights(dense.get_weights())
    dense.quantize("int8", type_check=False)
    return dense, float_dense


@pytest.mark.parametrize("activation", [None, "gelu"])
def test_quantized_fused_dense_is_close_to_float_in_inference_and_training(activation):
    rng = np.random.default_rng(2)
    dense, float_dense = _int8_dense_layer(rng, activation)
    x, residual = rng.normal(size=(3, 5, 48)).astype("float32"), rng.normal(size=(3, 5, 40)).astype("float32")
    expected = float_dense(x, residual=residual)
    scale = np.abs(expected).max()
    for training in (False, True):  # oneDNN's kernel; Keras' int8 matmul (per-row scales)
        served = tf.function(lambda x, r: dense(x, residual=r, training=training))(x, residual)
        assert 1e-6 < np.abs(served - expected).max() < 0.02 * scale
    assert "_QuantizedMatMul" in executed_op_types(tf.function(lambda x: dense(x, training=False)), x)
    assert "_QuantizedMatMul" not in executed_op_types(tf.function(lambda x: dense(x, training=True)), x)


def test_a_live_quantized_layer_follows_its_kernel_when_it_changes():
    # The kernel is a variable here: the op must not keep the first kernel it saw.
    rng = np.random.default_rng(3)
    dense, _ = _int8_dense_layer(rng)
    run = tf.function(lambda x: dense(x, training=False))
    x = rng.normal(size=(4, 48)).astype("float32")
    before = run(x).numpy()
    dense._kernel.assign(-dense._kernel)
    np.testing.assert_allclose(run(x) - dense.bias, -(before - dense.bias.numpy()), atol=1e-5)


def test_encoder_quantizes_the_six_projections_of_every_block():
    encoder = BertEncoder(vocab_size=50, hidden_size=16, num_layers=2, num_attention_heads=2, intermediate_size=24)
    inputs = {"input_word_ids": np.array([[2, 7, 9, 3, 0]]), "input_mask": np.array([[1, 1, 1, 1, 0]]),
              "input_type_ids": np.zeros((1, 5), "int32")}
    expected = encoder(inputs)["sequence_output"].numpy()
    encoder.quantize("int8")
    quantized = [layer.name for layer in encoder._flatten_layers() if getattr(layer, "quantization_mode", None)]
    assert len(quantized) == 12 and "pooler_dense" not in quantized
    run = tf.function(lambda inputs: encoder(inputs, training=False)["sequence_output"])
    types = executed_op_types(run, inputs)
    assert types.count("_QuantizedMatMul") == 12
    # Query, key and value share their input's quantization (grappler merges the identical ops).
    assert types.count("QuantizeV2") + types.count("_MklQuantizeV2") == 8
    assert np.abs(run(inputs).numpy() - expected).max() < 0.1
    revived = run_serialization_test(encoder, (inputs,))
    assert revived.get_layer("transformer_layer_1").output_dense.quantization_mode == "int8"
    with pytest.raises(ValueError, match="mode='int8' alone; got mode='int4'"):
        encoder.quantize("int4")


def test_encoder_with_lora_must_be_merged_first():
    encoder = BertEncoder(vocab_size=50, hidden_size=16, num_layers=1, num_attention_heads=2, intermediate_size=24)
    encoder.enable_lora(rank=2)
    with pytest.raises(ValueError, match="with_encoder_settings"):
        encoder.quantize("int8")
