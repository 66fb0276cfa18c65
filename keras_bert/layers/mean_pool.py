"""`mean_pool`: the average of the real tokens' vectors."""

import tensorflow as tf


def mean_pool(sequence_output, input_mask):
    """Averages token vectors over real (unpadded) positions.

    Sentence-embedding models such as all-MiniLM-L6-v2 use this instead of
    the pooled `[CLS]` output.

    Args:
        sequence_output: float tensor `(batch_size, seq_length, hidden_size)`.
        input_mask: int tensor `(batch_size, seq_length)`, 1 for real tokens.

    Returns:
        Float tensor `(batch_size, hidden_size)`.

    Example:
    >>> x = tf.constant([[[1.0], [3.0], [100.0]]])
    >>> mean_pool(x, tf.constant([[1, 1, 0]])).numpy().tolist()
    [[2.0]]
    """
    mask = tf.cast(input_mask, sequence_output.dtype)[:, :, tf.newaxis]
    total = tf.reduce_sum(sequence_output * mask, axis=1)
    # An all-padding row would divide by zero; it averages nothing instead.
    return total / tf.maximum(tf.reduce_sum(mask, axis=1), 1.0)
