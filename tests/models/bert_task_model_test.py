"""Every task model round-trips through get_config and .keras with its encoder."""

import numpy as np
import pytest

from keras_bert import BertEncoder
from keras_bert.models import (
    BertClassifier,
    BertFeatureTagger,
    BertMultipleChoice,
    BertSpanLabeler,
    BertTextEmbedder,
    BertTokenClassifier,
)
from keras_test_utils import run_serialization_test


def _encoder():
    return BertEncoder(vocab_size=23, hidden_size=8, num_layers=2, num_attention_heads=2,
                       intermediate_size=12, max_position_embeddings=16)


def _inputs(shape=(3, 7)):
    ids = np.random.default_rng(0).integers(1, 23, shape).astype("int32")
    return {"input_word_ids": ids, "input_mask": np.ones_like(ids), "input_type_ids": np.zeros_like(ids)}


@pytest.mark.parametrize("build, inputs", [
    (lambda e: BertClassifier(e, num_classes=1, dropout=0.3), _inputs()),
    (lambda e: BertTokenClassifier(e, num_classes=5, initializer_range=0.05), _inputs()),
    (lambda e: BertFeatureTagger(e, num_classes=4, num_feature_layers=2, lstm_units=3), _inputs()),
    (lambda e: BertFeatureTagger(e, num_classes=4, num_feature_layers=2, combine="sum", lstm_units=3), _inputs()),
    (lambda e: BertSpanLabeler(e), _inputs()),
    (lambda e: BertMultipleChoice(e, num_choices=3), _inputs((2, 3, 7))),
    (lambda e: BertTextEmbedder(e, pooling="max", normalize=False), _inputs()),
], ids=["classifier", "token_classifier", "feature_tagger", "feature_tagger_sum", "span_labeler", "multiple_choice",
        "text_embedder"])
def test_round_trip(build, inputs):
    model = build(_encoder())
    config = model.get_config()
    assert config["encoder"]["class_name"] == "BertEncoder"
    run_serialization_test(model, (inputs,))


@pytest.mark.parametrize("combine, layers, width", [("concat", 2, 16), ("sum", 2, 8), ("concat", 1, 8)])
def test_feature_tagger_combines_the_top_layers(combine, layers, width):
    import keras

    encoder = _encoder()
    tagger = BertFeatureTagger(encoder, num_classes=4, num_feature_layers=layers, combine=combine, lstm_units=3)
    inputs = _inputs()
    feature_dropout = next(layer for layer in tagger.layers if isinstance(layer, keras.layers.Dropout))
    features = np.asarray(keras.Model(tagger.inputs, feature_dropout.input)(inputs))
    outputs = encoder(inputs)["encoder_outputs"]
    top = [np.asarray(x) for x in outputs[-layers:]]
    expected = np.concatenate(top, -1) if combine == "concat" else sum(top)
    assert features.shape[-1] == width
    np.testing.assert_allclose(features, expected, atol=1e-5)
    with pytest.raises(ValueError, match="'concat' or 'sum'"):
        BertFeatureTagger(_encoder(), num_classes=4, num_feature_layers=2, combine="mean")


@pytest.mark.parametrize("build, inputs", [
    (lambda e: BertClassifier(e, num_classes=2), _inputs()),
    (lambda e: BertTokenClassifier(e, num_classes=5), _inputs()),
    (lambda e: BertFeatureTagger(e, num_classes=4, num_feature_layers=2, lstm_units=3), _inputs()),
    (lambda e: BertSpanLabeler(e), _inputs()),
    (lambda e: BertMultipleChoice(e, num_choices=3), _inputs((2, 3, 7))),
], ids=["classifier", "token_classifier", "feature_tagger", "span_labeler", "multiple_choice"])
def test_every_trainable_weight_gets_a_gradient(build, inputs):
    import keras
    import tensorflow as tf

    model = build(_encoder())
    with tf.GradientTape() as tape:
        loss = sum(tf.reduce_sum(tf.square(y)) for y in keras.tree.flatten(model(inputs, training=False)))
    grads = tape.gradient(loss, model.trainable_variables)
    missing = [v.path for v, g in zip(model.trainable_variables, grads) if g is None]
    assert missing == []
    # Whatever is left out of training stays a weight of the model.
    assert len(model.trainable_weights) + len(model.non_trainable_weights) == len(model.weights)


def test_token_level_heads_fit_without_missing_gradient_warnings():
    import warnings

    inputs = _inputs()
    model = BertSpanLabeler(_encoder())
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    pooler = [np.array(w) for w in model.encoder.get_layer("pooler").weights]
    labels = {"start_logits": np.array([1, 2, 3]), "end_logits": np.array([2, 3, 4])}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(inputs, labels, epochs=1, verbose=0)
    assert not [w for w in caught if "Gradients do not exist" in str(w.message)]
    for before, after in zip(pooler, model.encoder.get_layer("pooler").weights):
        np.testing.assert_array_equal(before, np.array(after))
    assert any(w.path.startswith("pooler") for w in BertClassifier(model.encoder, 2).trainable_weights)
