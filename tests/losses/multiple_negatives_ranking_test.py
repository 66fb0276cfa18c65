"""MultipleNegativesRankingLoss equals sentence-transformers' own loss module on the same embeddings."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_bert.losses import MultipleNegativesRankingLoss

torch = pytest.importorskip("torch")
st_losses = pytest.importorskip("sentence_transformers.sentence_transformer.losses")

SYMMETRIC = {"directions": ("query_to_doc", "doc_to_query"), "partition_mode": "per_direction"}


@pytest.fixture(scope="module")
def sentence_transformer(minilm_path):
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(minilm_path, device="cpu")


def _random_embeddings(batch_size, columns, seed):
    # Not unit length: both losses must normalise themselves.
    return np.random.default_rng(seed).normal(size=(batch_size, columns, 16)).astype("float32") * 3


def _reference(model, embeddings, scale, symmetric):
    """sentence-transformers' value, from its loss module's computation on given embeddings."""
    loss = st_losses.MultipleNegativesRankingLoss(model, scale=scale, **(SYMMETRIC if symmetric else {}))
    columns = [torch.from_numpy(embeddings[:, i].copy()) for i in range(embeddings.shape[1])]
    return float(loss.compute_loss_from_embeddings(columns, labels=None))


@pytest.mark.parametrize("columns", [2, 3, 4], ids=["pairs", "triplets", "two_negatives"])
@pytest.mark.parametrize("symmetric", [False, True], ids=["mnrl", "symmetric"])
def test_equals_sentence_transformers(sentence_transformer, columns, symmetric):
    embeddings = _random_embeddings(batch_size=6, columns=columns, seed=columns)
    for scale in (20.0, 1.0):
        ours = MultipleNegativesRankingLoss(scale=scale, symmetric=symmetric)(np.zeros(6), embeddings)
        expected = _reference(sentence_transformer, embeddings, scale, symmetric)
        np.testing.assert_allclose(float(ours), expected, rtol=1e-5, atol=1e-5)


def test_the_deprecated_symmetric_class_agrees(sentence_transformer):
    embeddings = _random_embeddings(batch_size=5, columns=2, seed=7)
    columns = [torch.from_numpy(embeddings[:, i].copy()) for i in range(2)]
    expected = st_losses.MultipleNegativesSymmetricRankingLoss(sentence_transformer).compute_loss_from_embeddings(
        columns, labels=None)
    ours = MultipleNegativesRankingLoss(symmetric=True)(np.zeros(5), embeddings)
    np.testing.assert_allclose(float(ours), float(expected), rtol=1e-5, atol=1e-5)


def test_by_hand_and_its_gradient_pulls_each_anchor_to_its_positive():
    embeddings = _random_embeddings(batch_size=4, columns=3, seed=1)
    unit = embeddings / np.linalg.norm(embeddings, axis=-1, keepdims=True)
    logits = 20 * unit[:, 0] @ np.concatenate([unit[:, 1], unit[:, 2]]).T  # (4, 8): positives, then negatives
    expected = np.mean(np.log(np.exp(logits).sum(-1)) - np.diag(logits))
    loss = MultipleNegativesRankingLoss()
    no_labels = np.zeros(4)
    np.testing.assert_allclose(float(loss(no_labels, embeddings)), expected, rtol=1e-5)
    variable = tf.Variable(embeddings)
    for _ in range(5):
        with tf.GradientTape() as tape:
            value = loss(no_labels, variable)
        variable.assign_sub(0.5 * tape.gradient(value, variable))
    assert float(loss(no_labels, variable)) < expected


def test_serializes_and_rejects_a_bad_scale():
    loss = MultipleNegativesRankingLoss(scale=10.0, symmetric=True)
    restored = keras.losses.deserialize(keras.losses.serialize(loss))
    assert (type(restored), restored.scale, restored.symmetric) == (MultipleNegativesRankingLoss, 10.0, True)
    with pytest.raises(ValueError, match=r"scale=0; use a positive number"):
        MultipleNegativesRankingLoss(scale=0)
