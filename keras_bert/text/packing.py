"""`pack_segments`: WordPiece ids -> `[CLS] A [SEP] (B [SEP])` rows, in-graph.

The one packing of the library: the preprocessor, the SQuAD and
token-classification features, pretraining instances and every exported
model lay out their rows with it.
"""

import tensorflow as tf
import tensorflow_text as tf_text


def pack_segments(segments, seq_length, cls_id, sep_id):
    """`[CLS] A [SEP] (B [SEP])` from WordPiece ids: trimmed to fit, then padded.

    Pairs are trimmed longer-segment-first (tensorflow-text's
    `RoundRobinTrimmer`, the original's `_truncate_seq_pair` rule).

    Args:
        segments: a list of one or two int `tf.RaggedTensor`s
            `(batch_size, (pieces))`; `(batch_size, (words), (pieces))` is
            merged to that first.
        seq_length: int, or a scalar int tensor (the shape is then dynamic).
        cls_id, sep_id: ids of `[CLS]` and `[SEP]`.

    Returns:
        The encoder's input dict of int32 `(batch_size, seq_length)` tensors.

    Example:
    >>> ids = pack_segments([tf.ragged.constant([[5, 6], [7]])], 5, cls_id=2, sep_id=3)
    >>> ids["input_word_ids"].numpy().tolist(), ids["input_mask"].numpy().tolist()
    ([[2, 5, 6, 3, 0], [2, 7, 3, 0, 0]], [[1, 1, 1, 1, 0], [1, 1, 1, 0, 0]])
    """
    segments = [s.merge_dims(1, 2) if s.shape.rank == 3 else s for s in segments]
    # One [CLS], then a [SEP] after each segment.
    segments = tf_text.RoundRobinTrimmer(max_seq_length=seq_length - 1 - len(segments)).trim(segments)
    # Laid out with dense gathers rather than tf_text.combine_segments, whose
    # ragged concatenation has no TFLite kernel: this way the same packing
    # serves training, SavedModels and TFLite (its result is tested equal).
    positions = tf.range(seq_length, dtype=tf.int32)[tf.newaxis]  # (1, seq_length)
    word_ids = tf.where(positions == 0, cls_id, 0)
    type_ids = tf.zeros_like(word_ids)
    end = tf.ones_like(segments[0].row_lengths(), tf.int32)[:, tf.newaxis]  # after [CLS]
    for type_id, segment in enumerate(segments):
        start, end = end, end + tf.cast(segment.row_lengths(), tf.int32)[:, tf.newaxis]
        dense = tf.cast(segment.to_tensor(0), tf.int32)
        inside = (positions >= start) & (positions < end)
        index = tf.clip_by_value(positions - start, 0, tf.maximum(tf.shape(dense)[1] - 1, 0))
        pieces = tf.gather(tf.pad(dense, [[0, 0], [0, 1]]), index, batch_dims=1)
        word_ids = tf.where(inside, pieces, tf.where(positions == end, sep_id, word_ids))
        type_ids = tf.where(inside | (positions == end), type_id, type_ids)
        end += 1  # the [SEP]
    return {
        "input_word_ids": word_ids,
        "input_mask": tf.cast(positions < end, tf.int32),
        "input_type_ids": type_ids,
    }
