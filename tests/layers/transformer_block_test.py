import numpy as np
import pytest

from keras_bert.layers import TransformerBlock
from keras_test_utils import run_serialization_test
from numpy_bert import transformer_layer

BATCH, SEQ, HIDDEN, HEADS, FFN = 3, 7, 8, 2, 12


def _random_block(activation, rng):
    block = TransformerBlock(
        num_heads=HEADS, intermediate_size=FFN, activation=activation, layer_norm_epsilon=1e-6
    )
    block(np.zeros((BATCH, SEQ, HIDDEN), "float32"))
    for variable in block.weights:
        variable.assign(rng.normal(scale=0.5, size=variable.shape).astype("float32"))
    return block


def _google_weights(block, prefix):
    """The block's weights in the NumPy reference's names and shapes."""
    attention = block.self_attention
    weights = {}
    for name in ("query", "key", "value"):
        dense = getattr(attention, name)
        weights[f"{prefix}attention/self/{name}/kernel"] = dense.kernel.numpy()
        weights[f"{prefix}attention/self/{name}/bias"] = dense.bias.numpy()
    weights[prefix + "attention/output/dense/kernel"] = attention.attention_output.kernel.numpy()
    weights[prefix + "attention/output/dense/bias"] = attention.attention_output.bias.numpy()
    for name, layer in (
        ("attention/output/LayerNorm", block.attention_layer_norm),
        ("output/LayerNorm", block.output_layer_norm),
    ):
        weights[f"{prefix}{name}/gamma"] = layer.gamma.numpy()
        weights[f"{prefix}{name}/beta"] = layer.beta.numpy()
    for name, layer in (
        ("intermediate/dense", block.intermediate_dense),
        ("output/dense", block.output_dense),
    ):
        weights[f"{prefix}{name}/kernel"] = layer.kernel.numpy()
        weights[f"{prefix}{name}/bias"] = layer.bias.numpy()
    return weights


@pytest.mark.parametrize("activation", ["gelu", "gelu_tanh", "relu"])
def test_matches_numpy_reference_with_padding(activation):
    rng = np.random.default_rng(0)
    block = _random_block(activation, rng)
    x = rng.normal(size=(BATCH, SEQ, HIDDEN)).astype("float32")
    mask = np.ones((BATCH, SEQ), "int32")
    mask[1, 4:] = 0
    mask[2, 2:] = 0
    expected = transformer_layer(
        x.astype(np.float64), mask, _google_weights(block, ""), "", HEADS, activation, 1e-6
    )
    np.testing.assert_allclose(block(x, padding_mask=mask), expected, atol=1e-4)


@pytest.mark.parametrize("causal", [False, True])
def test_skip_padding_computes_only_the_real_tokens(causal):
    rng = np.random.default_rng(3)
    block = _random_block("gelu", rng)
    block.causal = causal
    skipping = TransformerBlock(num_heads=HEADS, intermediate_size=FFN, layer_norm_epsilon=1e-6, causal=causal,
                                dropout=0.0, attention_dropout=0.0, skip_padding=True)
    skipping(np.zeros((BATCH, SEQ, HIDDEN), "float32"))
    skipping.set_weights(block.get_weights())
    x = rng.normal(size=(BATCH, SEQ, HIDDEN)).astype("float32")
    mask = np.ones((BATCH, SEQ), "int32")
    mask[1, 4:] = 0
    mask[2, :] = 0  # a row with no tokens at all
    real = mask == 1
    expected = block(x, padding_mask=mask).numpy()
    outputs = skipping(x, padding_mask=mask).numpy()
    np.testing.assert_allclose(outputs[real], expected[real], atol=1e-5)
    if not causal:  # and against the NumPy reference
        reference = transformer_layer(x.astype(np.float64), mask, _google_weights(block, ""), "", HEADS, "gelu", 1e-6)
        np.testing.assert_allclose(outputs[real], reference[real], atol=1e-4)
    # Training computes every position, as without it (dropout is random, so with rate 0 here).
    np.testing.assert_allclose(skipping(x, padding_mask=mask, training=True), expected, atol=1e-5)


def test_padding_is_never_attended_to():
    rng = np.random.default_rng(1)
    block = _random_block("gelu", rng)
    x = rng.normal(size=(BATCH, SEQ, HIDDEN)).astype("float32")
    mask = np.ones((BATCH, SEQ), "int32")
    mask[:, 5:] = 0
    changed = x.copy()
    changed[:, 5:] = rng.normal(size=(BATCH, SEQ - 5, HIDDEN)) * 100
    before = block(x, padding_mask=mask).numpy()
    after = block(changed, padding_mask=mask).numpy()
    np.testing.assert_allclose(after[:, :5], before[:, :5], atol=1e-5)


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
def test_half_precision_with_padding_stays_finite_and_close(policy):
    # float16 ends at 65504: a -1e9 padding bias would overflow to -inf and
    # turn the kept keys' scores into nan.
    import keras

    rng = np.random.default_rng(2)
    reference = _random_block("gelu", rng)
    keras.mixed_precision.set_global_policy(policy)
    try:
        block = TransformerBlock(num_heads=HEADS, intermediate_size=FFN, layer_norm_epsilon=1e-6)
        block(np.zeros((BATCH, SEQ, HIDDEN), "float32"))
    finally:
        keras.mixed_precision.set_global_policy("float32")
    block.set_weights(reference.get_weights())
    x = rng.normal(size=(BATCH, SEQ, HIDDEN)).astype("float32")
    mask = np.ones((BATCH, SEQ), "int32")
    mask[1, 3:] = 0
    outputs = np.asarray(block(x, padding_mask=mask), "float32")
    assert np.isfinite(outputs).all()
    np.testing.assert_allclose(outputs, reference(x, padding_mask=mask), atol=0.15)


def test_indivisible_width_names_both_numbers():
    block = TransformerBlock(num_heads=3, intermediate_size=FFN)
    with pytest.raises(ValueError, match="width 8 is not divisible by num_heads=3"):
        block(np.zeros((BATCH, SEQ, HIDDEN), "float32"))


def test_unknown_activation():
    with pytest.raises(ValueError, match="activation='swish' is not supported"):
        TransformerBlock(num_heads=2, intermediate_size=FFN, activation="swish")


def test_serialization():
    x = np.random.default_rng(2).normal(size=(BATCH, SEQ, HIDDEN)).astype("float32")
    mask = np.ones((BATCH, SEQ), "int32")
    block = TransformerBlock(num_heads=HEADS, intermediate_size=FFN, activation="gelu_tanh", dropout=0.2,
                             skip_padding=True)
    block(x, padding_mask=mask)
    run_serialization_test(block, (x,), {"padding_mask": mask})
