"""GlobalMeanSparseCrossentropy on one replica: Keras' weighted mean, ignore_class as weight 0, serialisable.

(Its point, the count summed over replicas, is tested end to end in tests/training/distribution_test.py.)
"""

import keras
import numpy as np

from keras_bert.losses import GlobalMeanSparseCrossentropy


def test_equals_the_mean_over_weighted_positions():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(3, 4, 5)).astype("float32")
    labels = rng.integers(0, 5, (3, 4))
    weights = np.array([[1, 1, 0, 0], [1, 0, 0, 0], [1, 1, 1, 1]], "float32")
    # By hand: the cross-entropy of each position, averaged over the 7 weighted ones.
    log_softmax = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    per_position = -np.take_along_axis(log_softmax, labels[..., None], -1)[..., 0]
    expected = (per_position * weights).sum() / weights.sum()
    value = GlobalMeanSparseCrossentropy(from_logits=True)(labels, logits, sample_weight=weights)
    np.testing.assert_allclose(float(value), expected, rtol=1e-6)
    keras_mean = keras.losses.SparseCategoricalCrossentropy(from_logits=True, reduction="mean_with_sample_weight")
    np.testing.assert_allclose(float(value), float(keras_mean(labels, logits, sample_weight=weights)), rtol=1e-6)
    # The ignored label counts as weight 0.
    ignored = np.where(weights > 0, labels, -100)
    value = GlobalMeanSparseCrossentropy(from_logits=True, ignore_class=-100)(ignored, logits)
    np.testing.assert_allclose(float(value), expected, rtol=1e-6)


def test_serialises():
    loss = GlobalMeanSparseCrossentropy(from_logits=True, ignore_class=-100)
    restored = keras.losses.deserialize(keras.losses.serialize(loss))
    assert type(restored) is GlobalMeanSparseCrossentropy
    assert (restored.ignore_class, restored.reduction) == (-100, "sum")
