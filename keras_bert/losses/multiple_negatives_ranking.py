"""`MultipleNegativesRankingLoss`: contrastive loss with in-batch negatives, for (anchor, positive[, negative]) rows."""

import keras
import tensorflow as tf


@keras.saving.register_keras_serializable(package="keras_bert")
class MultipleNegativesRankingLoss(keras.losses.Loss):
    """Cross-entropy of each anchor picking its own positive among every candidate in the batch.

    sentence-transformers' `MultipleNegativesRankingLoss` (InfoNCE with
    in-batch negatives): row `i`'s logits are `scale * cos(anchor_i, c)`
    for every candidate `c` of the batch, the positives of all rows first,
    then each further column (hard negatives) of all rows, and its target is
    `positive_i`. So the other rows' positives (and every hard negative)
    serve as negatives for free: larger batches give harder training.

    `symmetric=True` is sentence-transformers'
    `MultipleNegativesSymmetricRankingLoss` (`directions=("query_to_doc",
    "doc_to_query")`, `partition_mode="per_direction"`): the mean of that
    loss and the reverse one, each positive picking its own anchor among
    all anchors of the batch.

    Under `tf.distribute`, Keras computes the loss on each replica's part of
    the batch, so the negatives are the replica's rows only (as
    sentence-transformers without `gather_across_devices`): the batch that
    sets the difficulty is the per-replica batch.

    Args:
        scale: float. Multiplies the cosine similarities (the inverse of
            the softmax temperature). Defaults to `20.0`, as
            sentence-transformers.
        symmetric: bool. Add the positive-to-anchor direction. Defaults to
            `False`.
        name: str.
        **kwargs: Passed to `keras.losses.Loss` (e.g. `reduction`).

    Call arguments:
        y_true: ignored (the targets are the diagonal); any `(batch,)`
            tensor, as Keras' `fit` passes one.
        y_pred: float `(batch, columns, hidden)`: column 0 the anchors,
            column 1 their positives, columns 2... hard negatives (what
            `BertPairEmbedder` outputs). Need not be unit length.

    Returns:
        The loss per row `(batch,)` before Keras' reduction (the mean by
        default, sentence-transformers' value).

    Example:
    >>> import numpy as np
    >>> anchors = np.array([[1.0, 0.0], [0.0, 1.0]], "float32")
    >>> embeddings = np.stack([anchors, anchors], axis=1)  # each positive equals its anchor
    >>> loss = MultipleNegativesRankingLoss(scale=20.0)
    >>> round(float(loss(np.zeros(2), embeddings)), 6)  # log(1 + exp(20 * (0 - 1)))
    0.0
    >>> swapped = np.stack([anchors, anchors[::-1]], axis=1)  # each positive is the other anchor
    >>> round(float(loss(np.zeros(2), swapped)), 4)  # log(1 + exp(20))
    20.0
    """

    def __init__(self, scale=20.0, symmetric=False, name="multiple_negatives_ranking_loss", **kwargs):
        super().__init__(name=name, **kwargs)
        if not scale > 0:
            raise ValueError(f"scale={scale!r}; use a positive number (20 is usual, i.e. temperature 0.05).")
        self.scale = float(scale)
        self.symmetric = bool(symmetric)

    def call(self, y_true, y_pred):
        del y_true  # each anchor's target is its own positive
        embeddings = _unit_length(tf.cast(y_pred, tf.float32))  # the cosine in float32 under mixed precision
        anchors, positives = embeddings[:, 0], embeddings[:, 1]
        batch_size = tf.shape(embeddings)[0]
        # Candidates column by column: all positives, then each column of hard negatives.
        candidates = tf.reshape(tf.transpose(embeddings[:, 1:], [1, 0, 2]), [-1, tf.shape(embeddings)[-1]])
        logits = self.scale * tf.matmul(anchors, candidates, transpose_b=True)  # (batch, batch * (columns - 1))
        targets = tf.range(batch_size)
        loss = tf.nn.sparse_softmax_cross_entropy_with_logits(targets, logits)
        if self.symmetric:
            # Each positive against all anchors (hard negatives are no queries).
            reverse_logits = self.scale * tf.matmul(positives, anchors, transpose_b=True)
            loss = (loss + tf.nn.sparse_softmax_cross_entropy_with_logits(targets, reverse_logits)) / 2
        return loss

    def get_config(self):
        return {**super().get_config(), "scale": self.scale, "symmetric": self.symmetric}


def _unit_length(vectors):
    # torch.nn.functional.normalize's rule, as sentence-transformers' cos_sim: x / max(||x||, 1e-12).
    return vectors / tf.maximum(tf.norm(vectors, axis=-1, keepdims=True), 1e-12)
