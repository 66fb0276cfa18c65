"""CosineSimilarityLoss equals sentence-transformers' CosineSimilarityLoss on the same embeddings and scores."""

import keras
import numpy as np
import pytest

from keras_bert.losses import CosineSimilarityLoss

torch = pytest.importorskip("torch")
st_losses = pytest.importorskip("sentence_transformers.sentence_transformer.losses")


def test_equals_sentence_transformers(minilm_path):
    from sentence_transformers import SentenceTransformer

    rng = np.random.default_rng(0)
    embeddings = rng.normal(size=(8, 2, 16)).astype("float32") * 3
    scores = rng.uniform(size=8).astype("float32")
    reference = st_losses.CosineSimilarityLoss(SentenceTransformer(minilm_path, device="cpu"))
    expected = reference.compute_loss_from_embeddings(
        [torch.from_numpy(embeddings[:, 0].copy()), torch.from_numpy(embeddings[:, 1].copy())],
        torch.from_numpy(scores))
    ours = CosineSimilarityLoss()(scores, embeddings)
    np.testing.assert_allclose(float(ours), float(expected), rtol=1e-5, atol=1e-6)
    # And by hand.
    cosine = np.sum(embeddings[:, 0] * embeddings[:, 1], -1) / np.prod(np.linalg.norm(embeddings, axis=-1), -1)
    np.testing.assert_allclose(float(ours), np.mean((scores - cosine) ** 2), rtol=1e-5)


def test_serializes():
    restored = keras.losses.deserialize(keras.losses.serialize(CosineSimilarityLoss()))
    assert isinstance(restored, CosineSimilarityLoss)
