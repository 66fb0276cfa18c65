import numpy as np
import pytest
import tensorflow as tf

from keras_bert.layers import SelfAttention
from keras_bert.layers.self_attention import length_groups, packed_rows
from keras_test_utils import run_serialization_test

BATCH, SEQ, HIDDEN, HEADS = 2, 5, 8, 2


def _attention(rng, **kwargs):
    attention = SelfAttention(HEADS, **kwargs)
    attention.build((None, HIDDEN))
    for variable in attention.weights:
        variable.assign(rng.normal(scale=0.5, size=variable.shape).astype("float32"))
    return attention


def _reference(rows, attention, bias):
    """Multi-head attention in float64 NumPy from the layer's (in, out) kernels."""
    def project(layer, x):
        return x @ layer.kernel.numpy().astype("float64") + layer.bias.numpy()

    x = rows.astype("float64").reshape(BATCH, SEQ, HIDDEN)
    heads = lambda y: y.reshape(BATCH, SEQ, HEADS, HIDDEN // HEADS).transpose(0, 2, 1, 3)  # noqa: E731
    q, k, v = (heads(project(layer, x)) for layer in (attention.query, attention.key, attention.value))
    scores = q @ k.transpose(0, 1, 3, 2) / np.sqrt(HIDDEN // HEADS) + bias
    probs = np.exp(scores - scores.max(-1, keepdims=True))
    probs /= probs.sum(-1, keepdims=True)
    context = (probs @ v).transpose(0, 2, 1, 3).reshape(BATCH * SEQ, HIDDEN)
    return project(attention.attention_output, context)


def test_equals_numpy_multi_head_attention_with_a_padding_bias_and_residual():
    rng = np.random.default_rng(0)
    attention = _attention(rng)
    rows = rng.normal(size=(BATCH * SEQ, HIDDEN)).astype("float32")
    bias = np.zeros((BATCH, 1, 1, SEQ), "float32")
    bias[1, ..., 3:] = -1e9
    expected = _reference(rows, attention, bias)
    np.testing.assert_allclose(attention(rows, bias, seq_length=SEQ), expected, atol=1e-4)
    np.testing.assert_allclose(tf.function(lambda r: attention(r, bias, seq_length=SEQ, residual=r))(rows), expected + rows,
                               atol=1e-4)


def _sequence_attention(rows, attention, causal):
    """One sequence's attention in float64 NumPy: its real tokens' rows only, no padding anywhere."""
    def project(layer, x):
        return x @ layer.kernel.numpy().astype("float64") + layer.bias.numpy()

    heads = lambda y: y.reshape(len(y), HEADS, -1).transpose(1, 0, 2)  # noqa: E731
    q, k, v = (heads(project(layer, rows)) for layer in (attention.query, attention.key, attention.value))
    scores = q @ k.transpose(0, 2, 1) / np.sqrt(HIDDEN // HEADS)
    if causal:
        scores += np.triu(np.full((len(rows), len(rows)), -1e9), 1)
    probs = np.exp(scores - scores.max(-1, keepdims=True))
    probs /= probs.sum(-1, keepdims=True)
    return project(attention.attention_output, (probs @ v).transpose(1, 0, 2).reshape(len(rows), HIDDEN))


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("lengths", [[5], [3, 0, 7, 1, 7, 2, 6], []], ids=["one", "mixed", "empty batch"])
def test_length_groups_attend_within_each_sequence_only(lengths, causal):
    # Sequences sorted and grouped, each group padded to its own longest: each token's output must be its
    # own sequence's attention, as if no other sequence and no padding existed. One mask has a hole.
    rng = np.random.default_rng(4)
    attention = _attention(rng)
    seq = 8
    mask = (np.arange(seq)[None] < np.array(lengths, int).reshape(-1, 1)).astype("int32")
    if len(lengths) > 2:
        mask[2, 3] = 0
    token_rows, _ = packed_rows(mask)
    rows = rng.normal(size=(int(mask.sum()), HIDDEN)).astype("float32")
    for num_groups in (1, 2, 4):
        groups = length_groups(mask, num_groups, causal=causal)
        outputs = attention(rows, groups=groups).numpy()
        sequence_of_row = token_rows.numpy() // seq
        for sequence in range(len(lengths)):
            mine = sequence_of_row == sequence
            if mine.any():
                np.testing.assert_allclose(outputs[mine], _sequence_attention(rows[mine], attention, causal),
                                           atol=1e-4)
        assert outputs.shape == rows.shape


def test_length_groups_need_a_positive_number_of_groups():
    with pytest.raises(ValueError, match="num_groups=0; use a positive int"):
        length_groups([[1, 1]], 0)


def test_dropout_only_in_training_and_seed_states_listed():
    rng = np.random.default_rng(1)
    attention = _attention(rng, dropout=0.5, attention_dropout=0.5)
    rows = rng.normal(size=(BATCH * SEQ, HIDDEN)).astype("float32")
    np.testing.assert_array_equal(attention(rows, seq_length=SEQ), attention(rows, seq_length=SEQ))
    assert not np.allclose(attention(rows, seq_length=SEQ, training=True), attention(rows, seq_length=SEQ))
    assert len(attention.seed_states()) == 2
    without_dropout = SelfAttention(HEADS, dropout=0.0, attention_dropout=0.0)
    without_dropout.build((None, HIDDEN))
    assert without_dropout.seed_states() == []


def test_indivisible_width_names_both_numbers():
    with pytest.raises(ValueError, match="width 8 is not divisible by num_heads=3"):
        SelfAttention(3).build((None, HIDDEN))


def test_serialization():
    rows = np.random.default_rng(2).normal(size=(SEQ, HIDDEN)).astype("float32")
    attention = SelfAttention(HEADS, dropout=0.2, inference_kernel="matmul")
    attention(rows, seq_length=SEQ)
    restored = run_serialization_test(attention, (rows,))
    assert (restored.num_heads, restored.dropout, restored.inference_kernel) == (HEADS, 0.2, "matmul")
