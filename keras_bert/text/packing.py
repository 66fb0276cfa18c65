"""`pack_segments`: WordPiece ids -> `[CLS] A [SEP] (B [SEP])` rows, in-graph.

The one packing of the library: the preprocessor, the SQuAD and
token-classification features, pretraining instances and every exported
model lay out their rows with it.
"""

import tensorflow as tf


def pack_segments(segments, seq_length, cls_id, sep_id):
    """`[CLS] A [SEP] (B [SEP])` from WordPiece ids: trimmed to fit, then padded.

    Pairs are trimmed longer-segment-first (the original's
    `_truncate_seq_pair` rule, as tensorflow-text's `RoundRobinTrimmer`
    trims). Only core TensorFlow ops run here, so packing needs no custom
    op in a SavedModel, in TF Serving or in TFLite.

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
    lengths = _trimmed_lengths([tf.cast(s.row_lengths(), tf.int32) for s in segments],
                               tf.maximum(seq_length - 1 - len(segments), 0))
    # Laid out with dense gathers rather than tf_text.combine_segments, whose
    # ragged concatenation has no TFLite kernel: this way the same packing
    # serves training, SavedModels and TFLite (its result is tested equal).
    positions = tf.range(seq_length, dtype=tf.int32)[tf.newaxis]  # (1, seq_length)
    word_ids = tf.where(positions == 0, cls_id, 0)
    type_ids = tf.zeros_like(word_ids)
    end = tf.ones_like(lengths[0])[:, tf.newaxis]  # after [CLS]
    for type_id, (segment, length) in enumerate(zip(segments, lengths)):
        start, end = end, end + length[:, tf.newaxis]
        # Rows cut or padded to seq_length pieces: the gather reads only the kept ones.
        dense = tf.cast(segment.to_tensor(0, shape=tf.stack([-1, seq_length])), tf.int32)
        inside = (positions >= start) & (positions < end)
        index = tf.clip_by_value(positions - start, 0, seq_length - 1)
        pieces = tf.gather(dense, index, batch_dims=1)
        word_ids = tf.where(inside, pieces, tf.where(positions == end, sep_id, word_ids))
        type_ids = tf.where(inside | (positions == end), type_id, type_ids)
        end += 1  # the [SEP]
    return {
        "input_word_ids": word_ids,
        "input_mask": tf.cast(positions < end, tf.int32),
        "input_type_ids": type_ids,
    }


def _trimmed_lengths(lengths, budget):
    """Each row's segment lengths once trimmed to `budget` pieces in all, longer segment first.

    Cutting the longer segment one piece at a time (ties: the second) leaves
    the first segment `ceil(budget / 2)` pieces when both are long, or
    whatever the second leaves it; tensorflow-text's round-robin trimmer
    keeps the same.
    """
    if len(lengths) == 1:
        return [tf.minimum(lengths[0], budget)]
    first, second = lengths
    first = tf.minimum(first, tf.maximum((budget + 1) // 2, budget - second))
    return [first, tf.minimum(second, budget - first)]
