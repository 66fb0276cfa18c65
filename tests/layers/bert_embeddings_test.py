import numpy as np
import pytest

from keras_bert.layers import BertEmbeddings
from keras_test_utils import run_serialization_test

# Distinct small sizes, so swapped axes fail loudly.
BATCH, SEQ, HIDDEN, VOCAB, POSITIONS = 3, 7, 8, 23, 11


def _inputs(seed=0):
    rng = np.random.default_rng(seed)
    token_ids = rng.integers(0, VOCAB, (BATCH, SEQ)).astype("int32")
    segment_ids = rng.integers(0, 2, (BATCH, SEQ)).astype("int32")
    return token_ids, segment_ids


def _layer(**kwargs):
    return BertEmbeddings(
        vocab_size=VOCAB, hidden_size=HIDDEN, max_position_embeddings=POSITIONS, **kwargs
    )


def test_equals_hand_computed_sum_then_layer_norm():
    layer = _layer(layer_norm_epsilon=1e-5)
    token_ids, segment_ids = _inputs()
    layer(token_ids, segment_ids)
    rng = np.random.default_rng(1)
    for variable in layer.weights:
        variable.assign(rng.normal(size=variable.shape).astype("float32"))
    words = layer.word_embeddings.embeddings.numpy()
    segments = layer.segment_embeddings.embeddings.numpy()
    positions = layer.position_embeddings.numpy()
    gamma, beta = layer.layer_norm.gamma.numpy(), layer.layer_norm.beta.numpy()

    summed = words[token_ids] + segments[segment_ids] + positions[None, :SEQ]
    mean = summed.mean(-1, keepdims=True)
    var = summed.var(-1, keepdims=True)
    expected = (summed - mean) / np.sqrt(var + 1e-5) * gamma + beta

    np.testing.assert_allclose(layer(token_ids, segment_ids), expected, atol=1e-5)


def test_any_length_up_to_the_position_table():
    layer = _layer()
    for seq in (1, 5, POSITIONS):
        ids = np.zeros((2, seq), "int32")
        assert tuple(layer(ids, ids).shape) == (2, seq, HIDDEN)


def test_too_long_input_names_the_limit():
    layer = _layer()
    ids = np.zeros((2, POSITIONS + 1), "int32")
    with pytest.raises(ValueError, match=r"Sequence length 12 exceeds max_position_embeddings=11"):
        layer(ids, ids)


def test_dropout_only_in_training():
    layer = _layer(dropout=0.5)
    token_ids, segment_ids = _inputs()
    inference = layer(token_ids, segment_ids, training=False)
    np.testing.assert_array_equal(inference, layer(token_ids, segment_ids))
    assert not np.allclose(layer(token_ids, segment_ids, training=True), inference)


def test_serialization():
    layer = _layer(type_vocab_size=3, dropout=0.2, initializer_range=0.05, pad_token_id=None)
    token_ids, segment_ids = _inputs()
    layer(token_ids, segment_ids)
    run_serialization_test(layer, (token_ids, segment_ids))


def _word_table_gradients(layer, token_ids, segment_ids):
    import tensorflow as tf

    with tf.GradientTape() as tape:
        outputs = layer(token_ids, segment_ids, training=True)
        loss = tf.reduce_sum(outputs * np.arange(HIDDEN, dtype="float32"))
    table = layer.word_embeddings.embeddings
    others = [layer.segment_embeddings.embeddings, layer.position_embeddings]
    gradients = tape.gradient(loss, [table, *others])
    dense = [tf.convert_to_tensor(g).numpy() for g in gradients]  # lookups give IndexedSlices
    return outputs, dense[0], dense[1:]


def test_padding_row_gets_no_gradient_as_transformers_padding_idx():
    token_ids, segment_ids = _inputs()
    token_ids[:, -3:] = 0  # padded tails: [PAD] is id 0
    trained, frozen = _layer(pad_token_id=None, dropout=0.0), _layer(dropout=0.0)
    trained(token_ids, segment_ids)
    frozen(token_ids, segment_ids)
    frozen.set_weights(trained.get_weights())

    outputs, table_gradient, other_gradients = _word_table_gradients(frozen, token_ids, segment_ids)
    expected_outputs, expected_table, expected_others = _word_table_gradients(trained, token_ids, segment_ids)

    np.testing.assert_array_equal(outputs, expected_outputs)  # the forward pass is untouched
    assert np.abs(expected_table[0]).max() > 1e-3  # without the freeze, padding trains row 0
    np.testing.assert_array_equal(table_gradient[0], 0.0)
    np.testing.assert_allclose(table_gradient[1:], expected_table[1:], atol=1e-6)
    for gradient, expected in zip(other_gradients, expected_others):  # positions and segments still train
        np.testing.assert_allclose(gradient, expected, atol=1e-6)


def test_padding_id_is_configurable():
    token_ids, segment_ids = _inputs()
    token_ids[:, -2:] = 5
    layer = _layer(pad_token_id=5, dropout=0.0)
    layer(token_ids, segment_ids)
    _, table_gradient, _ = _word_table_gradients(layer, token_ids, segment_ids)
    assert (token_ids == 5).any() and (token_ids == 0).any()
    np.testing.assert_array_equal(table_gradient[5], 0.0)
    assert np.abs(table_gradient[0]).max() > 1e-3
