import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_bert.layers import Dropout
from keras_test_utils import run_serialization_test


@pytest.mark.parametrize("noise_shape", [None, (None, 1, 16)])
@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
def test_same_masks_as_keras_dropout_without_xla(noise_shape, dtype):
    x = tf.cast(np.random.default_rng(0).normal(size=(4, 8, 16)), dtype)
    ours = Dropout(0.3, noise_shape=noise_shape, seed=7)
    reference = keras.layers.Dropout(0.3, noise_shape=noise_shape, seed=7)
    for _ in range(3):  # the seed state advances identically call after call
        got, expected = ours(x, training=True), reference(x, training=True)
        np.testing.assert_array_equal(np.asarray(tf.cast(got, "float32")), np.asarray(tf.cast(expected, "float32")))
    assert not np.array_equal(ours(x, training=True), ours(x, training=True))


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
