"""BertPairEmbedder: one shared BertTextEmbedder per column, trainable with the embedding losses, saved whole."""

import warnings

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_bert.losses import CosineSimilarityLoss, MultipleNegativesRankingLoss
from keras_bert.models import BertEncoder, BertPairEmbedder, BertTextEmbedder


def _embedder(pooling="mean"):
    encoder = BertEncoder(vocab_size=23, hidden_size=8, num_layers=1, num_attention_heads=2, intermediate_size=12)
    return BertTextEmbedder(encoder, pooling=pooling)


def _texts(rng, batch_size, length):
    ids = rng.integers(1, 23, (batch_size, length)).astype("int32")
    mask = np.ones_like(ids)
    mask[0, length // 2:] = 0
    return {"input_word_ids": ids, "input_mask": mask, "input_type_ids": 0 * ids}


def test_each_column_is_the_embedders_output():
    rng = np.random.default_rng(0)
    embedder = _embedder()
    model = BertPairEmbedder(embedder, with_negative=True)
    inputs = {"anchor": _texts(rng, 3, 5), "positive": _texts(rng, 3, 7), "negative": _texts(rng, 3, 4)}
    outputs = model(inputs).numpy()
    assert outputs.shape == (3, 3, 8) and model.columns == ("anchor", "positive", "negative")
    for i, column in enumerate(model.columns):
        np.testing.assert_allclose(outputs[:, i], embedder(inputs[column]).numpy(), atol=1e-6)
    assert {id(v) for v in model.weights} == {id(v) for v in embedder.weights}  # shared, not copied


def test_trains_the_embedder_without_the_pooler_and_round_trips(tmp_path):
    rng = np.random.default_rng(1)
    embedder = _embedder("cls")
    model = BertPairEmbedder(embedder)
    pooler = {v.path for v in embedder.encoder.get_layer("pooler").weights}
    assert pooler and not {v.path for v in model.trainable_weights} & pooler
    inputs = {"anchor": _texts(rng, 4, 6), "positive": _texts(rng, 4, 6)}
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss=MultipleNegativesRankingLoss())
    before = embedder(inputs["anchor"]).numpy()
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # e.g. "Gradients do not exist for variables"
        model.fit(tf.data.Dataset.from_tensors((inputs, np.zeros(4, "float32"))).repeat(4), shuffle=False, verbose=0)
    assert not np.allclose(embedder(inputs["anchor"]).numpy(), before)  # the embedder's weights trained

    model.save(tmp_path / "pairs.keras")
    restored = keras.saving.load_model(tmp_path / "pairs.keras")
    assert type(restored.embedder) is BertTextEmbedder and restored.embedder.pooling == "cls"
    assert restored.embedder.encoder is restored.encoder
    np.testing.assert_allclose(restored(inputs), model(inputs), atol=1e-6)


def test_scored_pairs_train_with_the_cosine_loss():
    rng = np.random.default_rng(2)
    model = BertPairEmbedder(_embedder())
    inputs = {"anchor": _texts(rng, 4, 5), "positive": _texts(rng, 4, 5)}
    scores = np.array([1.0, 0.0, 0.5, 1.0], "float32")
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss=CosineSimilarityLoss())
    losses = model.fit(inputs, scores, epochs=10, batch_size=4, verbose=0).history["loss"]
    assert losses[-1] < losses[0]


def test_lora_on_the_pair_model_is_the_embedders():
    embedder = _embedder()
    model = BertPairEmbedder(embedder)
    model.enable_lora(rank=2)
    assert embedder.encoder.lora_settings["rank"] == 2
    assert sorted({v.name for v in model.trainable_weights}) == ["lora_kernel_a", "lora_kernel_b"]


def test_wraps_only_a_text_embedder():
    with pytest.raises(TypeError, match="BertPairEmbedder wraps a BertTextEmbedder; got BertEncoder"):
        BertPairEmbedder(_embedder().encoder)
