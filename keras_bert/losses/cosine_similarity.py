"""`CosineSimilarityLoss`: squared error between a pair's cosine similarity and its gold score."""

import keras
import tensorflow as tf


@keras.saving.register_keras_serializable(package="keras_bert")
class CosineSimilarityLoss(keras.losses.Loss):
    """`(score - cos(u, v))^2` for scored text pairs, as sentence-transformers' `CosineSimilarityLoss`.

    For pairs with a graded similarity (STS-B's 0-5 rescaled to 0-1, or 0/1
    labels): the embeddings are pulled together or pushed apart until their
    cosine matches the score. The mean over the batch (Keras' default
    reduction) is sentence-transformers' `MSELoss` value.

    Args:
        name: str.
        **kwargs: Passed to `keras.losses.Loss` (e.g. `reduction`).

    Call arguments:
        y_true: float `(batch,)` gold scores, on the cosine's scale
            (usually 0 to 1).
        y_pred: float `(batch, 2, hidden)`: each pair's two embeddings
            (what `BertPairEmbedder` outputs); need not be unit length.

    Returns:
        The squared error per pair `(batch,)` before Keras' reduction.

    Example:
    >>> import numpy as np
    >>> pairs = np.array([[[1.0, 0.0], [2.0, 0.0]],    # cosine 1
    ...                   [[1.0, 0.0], [0.0, 3.0]]], "float32")  # cosine 0
    >>> loss = CosineSimilarityLoss()
    >>> float(loss(np.array([1.0, 0.0]), pairs)), float(loss(np.array([0.5, 0.5]), pairs))
    (0.0, 0.25)
    """

    def __init__(self, name="cosine_similarity_loss", **kwargs):
        super().__init__(name=name, **kwargs)

    def call(self, y_true, y_pred):
        y_pred = tf.cast(y_pred, tf.float32)
        first, second = y_pred[:, 0], y_pred[:, 1]
        # torch.cosine_similarity's rule: the dot product over max(||u|| * ||v||, 1e-8).
        norms = tf.norm(first, axis=-1) * tf.norm(second, axis=-1)
        cosine = tf.reduce_sum(first * second, axis=-1) / tf.maximum(norms, 1e-8)
        return tf.square(tf.reshape(tf.cast(y_true, tf.float32), [-1]) - cosine)
