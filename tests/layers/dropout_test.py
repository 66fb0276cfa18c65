import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_bert.layers import Dropout
from keras_test_utils import run_serialization_test


@pytest.mark.parametrize("dtype", ["float32", "bfloat16", "float16"])
def test_drops_the_rate_and_scales_the_rest_exactly_in_every_dtype(dtype):
    rate = 0.1
    x = tf.ones((8, 12, 128, 128), dtype)
    out = np.asarray(tf.cast(Dropout(rate, seed=2, dtype=dtype)(x, training=True), "float64"))
    # 1,572,864 draws: the binomial standard deviation of the share is 2.4e-4.
    # (Keras' bfloat16 dropout drops 13/128 = 0.1016 here.)
    assert abs((out == 0).mean() - rate) < 0.0012
    expected_scale = np.asarray(tf.cast(tf.cast(1 / (1 - rate), dtype), "float64"))  # rounded once
    assert set(np.unique(out[out != 0]).tolist()) == {float(expected_scale)}


@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
def test_gradient_is_the_same_mask_times_the_scale(dtype):
    rate = 0.3
    layer = Dropout(rate, seed=4, dtype=dtype)
    x = tf.cast(np.random.default_rng(0).uniform(1, 2, size=(6, 50)), dtype)  # no zeros
    upstream = tf.cast(np.random.default_rng(1).normal(size=x.shape), dtype)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = layer(x, training=True)
    gradient = np.asarray(tf.cast(tape.gradient(y, x, upstream), "float64"))
    kept = np.asarray(y) != 0
    scaled = tf.cast(tf.cast(upstream, "float32") * np.float32(1 / (1 - rate)), dtype)  # rounded once
    expected = np.asarray(tf.cast(scaled, "float64"))
    np.testing.assert_array_equal(gradient, np.where(kept, expected, 0.0))


def test_noise_shape_broadcasts_one_mask():
    layer = Dropout(0.5, noise_shape=(None, 1, 16), seed=5)
    out = np.asarray(layer(tf.ones((4, 8, 16)), training=True))
    assert (out == out[:, :1, :]).all()  # the same along the broadcast axis
    assert 0 < (out == 0).mean() < 1


def test_seeded_layers_repeat_their_masks_and_each_call_draws_a_new_one():
    x = tf.ones((4, 64))
    first, second = Dropout(0.5, seed=7), Dropout(0.5, seed=7)
    masks = [np.asarray(first(x, training=True)) for _ in range(3)]
    np.testing.assert_array_equal(masks, [np.asarray(second(x, training=True)) for _ in range(3)])
    assert not np.array_equal(masks[0], masks[1])
    # The seed state decides the mask (gradient checkpointing rewinds it).
    state = first.seed_generator.state.numpy()
    again = np.asarray(first(x, training=True))
    first.seed_generator.state.assign(state)
    np.testing.assert_array_equal(np.asarray(first(x, training=True)), again)


def test_under_xla_drops_the_rate_and_rescales_the_rest():
    rate = 0.1
    layer = Dropout(rate, seed=3)
    x = tf.ones((8, 12, 64, 64))
    step = tf.function(lambda: layer(x, training=True), jit_compile=True)
    first, second = step().numpy(), step().numpy()
    for out in (first, second):
        dropped = (out == 0).mean()
        # 393,216 draws: the binomial standard deviation of the share is 4.8e-4.
        assert abs(dropped - rate) < 0.003
        np.testing.assert_allclose(out[out != 0], 1 / (1 - rate), rtol=1e-6)
    assert (first != second).any(), "each call draws a new mask"


def test_identity_unless_training():
    x = np.random.default_rng(1).normal(size=(3, 5)).astype("float32")
    np.testing.assert_array_equal(Dropout(0.5)(x), x)
    np.testing.assert_array_equal(Dropout(0.0)(x, training=True), x)


def test_serialization():
    layer = Dropout(0.2, noise_shape=(None, 1), seed=5)
    x = np.ones((3, 4), "float32")
    run_serialization_test(layer, (x,))
    assert layer.get_config()["noise_shape"] == (None, 1)


def test_every_dropout_in_the_models_is_this_one():
    from keras_bert.models import (BertClassifier, BertEncoder, BertFeatureTagger, BertMultipleChoice,
                                   BertTokenClassifier)

    encoder = BertEncoder(vocab_size=20, hidden_size=8, num_layers=1, num_attention_heads=2, intermediate_size=8)
    models = [BertClassifier(encoder, 2), BertTokenClassifier(encoder, 3), BertMultipleChoice(encoder, num_choices=2)]
    # (The feature tagger freezes its encoder, so it gets one of its own.)
    tagger_encoder = BertEncoder(vocab_size=20, hidden_size=8, num_layers=1, num_attention_heads=2,
                                 intermediate_size=8)
    models.append(BertFeatureTagger(tagger_encoder, 3, num_feature_layers=1, lstm_units=4))
    dropouts = [layer for model in models for layer in model._flatten_layers()
                if isinstance(layer, keras.layers.Dropout) and layer.rate > 0]  # (MultiHeadAttention's own: 0)
    assert len(dropouts) >= 4 + 3  # the encoder's three, one or two per head
    assert all(type(layer) is Dropout for layer in dropouts), {type(layer) for layer in dropouts}
