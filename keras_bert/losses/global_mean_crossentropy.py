"""`GlobalMeanSparseCrossentropy`: cross-entropy averaged over the counted positions of the whole global batch."""

import keras
import tensorflow as tf


@keras.saving.register_keras_serializable(package="keras_bert")
class GlobalMeanSparseCrossentropy(keras.losses.SparseCategoricalCrossentropy):
    """Sparse cross-entropy summed over positions, divided by the global batch's count of weighted positions.

    The masked LM and the taggers average over real positions only (masked
    pieces, first word pieces), whose number varies from row to row. Keras'
    `mean_with_sample_weight` divides each replica's sum by that replica's
    count, so under tf.distribute the update is a mean of per-replica means
    and depends on how the batch was split. Here the count is summed over
    all replicas first: a two-worker step equals the one-process step on
    the same global batch. On one replica this is `mean_with_sample_weight`.

    Args:
        from_logits: bool.
        ignore_class: optional int label that counts as weight 0 (padding).
        name: str.

    Call arguments: `y_true` int `(batch, ...)`, `y_pred` `(batch, ..., classes)`,
    optional `sample_weight` `(batch, ...)`; returns a scalar.

    Example:
    >>> import numpy as np
    >>> loss = GlobalMeanSparseCrossentropy(from_logits=True)
    >>> logits = np.log(np.array([[[0.5, 0.5], [0.9, 0.1]]], "float32"))
    >>> value = loss(np.array([[0, 0]]), logits, sample_weight=np.array([[1.0, 0.0]]))
    >>> round(float(value), 4)  # only the first position counts: -log(0.5)
    0.6931
    """

    def __init__(self, from_logits=True, ignore_class=None, name="global_mean_sparse_crossentropy", **kwargs):
        kwargs.pop("reduction", None)  # always a sum, divided below
        super().__init__(from_logits=from_logits, ignore_class=ignore_class, reduction="sum", name=name, **kwargs)

    def __call__(self, y_true, y_pred, sample_weight=None):
        total = super().__call__(y_true, y_pred, sample_weight)
        y_true = tf.convert_to_tensor(y_true)
        weights = tf.ones_like(y_true, total.dtype) if sample_weight is None else tf.cast(
            tf.reshape(sample_weight, tf.shape(y_true)), total.dtype)
        if self.ignore_class is not None:
            weights *= tf.cast(tf.not_equal(y_true, self.ignore_class), total.dtype)
        count = tf.reduce_sum(weights)
        context = tf.distribute.get_replica_context()
        if context is not None and context.num_replicas_in_sync > 1:
            count = context.all_reduce(tf.distribute.ReduceOp.SUM, count)
        return tf.math.divide_no_nan(total, count)
