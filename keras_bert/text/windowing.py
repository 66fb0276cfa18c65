"""Sliding windows over long contexts and the max-context rule, as run_squad.py has them, in-graph.

The one definition of both: SQuAD training features (`squad_features`),
their scoring (`squad_answers` reads the max-context mask) and the exported
span server all cut their windows here, so training and serving cannot
drift apart.
"""

import tensorflow as tf

from keras_bert.text.packing import pack_segments

# Scores are compared as integers: 100 * context + window length is the
# original's `min(left, right) + 0.01 * length`, scaled by 100.
_LENGTH_WEIGHT = 100
# Ties go to the earliest window: the score is shifted past any window number.
_WINDOW_BITS = 32


def sliding_windows(lengths, window_size, stride):
    """Windows over sequences, cut as google-research/bert's run_squad.py cuts its contexts.

    A sequence's first window starts at piece 0 and holds up to
    `window_size` pieces; each next one starts `min(window length, stride)`
    pieces later, and the first window to reach the sequence's end is the
    last (so it may hold fewer pieces). No piece is skipped, even when
    `stride` exceeds `window_size`. An empty sequence gets one empty window
    (the original gets none), so every row has a window to be scored in.

    Args:
        lengths: int tensor `(batch,)`: pieces per sequence.
        window_size: int, or int tensor `(batch,)`: most pieces a window
            holds; at least 1.
        stride: int. Pieces between window starts; at least 1.

    Returns:
        `(row, start, length)`: int64 tensors `(windows,)`: the sequence each
        window cuts, its first piece and how many pieces it holds; row 0's
        windows first, each row's in order.

    Example:
    >>> row, start, length = sliding_windows(tf.constant([10, 3]), window_size=4, stride=128)
    >>> row.numpy().tolist(), start.numpy().tolist(), length.numpy().tolist()
    ([0, 0, 0, 1], [0, 4, 8, 0], [4, 4, 2, 3])
    """
    lengths = tf.cast(lengths, tf.int64)
    size = tf.broadcast_to(tf.cast(window_size, tf.int64), tf.shape(lengths, out_type=tf.int64))
    # Every window but the last holds `size` pieces, so all steps are equal.
    step = tf.minimum(size, stride)
    count = 1 + tf.maximum(lengths - size + step - 1, 0) // step  # 1 + ceil((length - size) / step)
    number = tf.ragged.range(count)
    row = number.value_rowids()
    start = number.flat_values * tf.gather(step, row)
    length = tf.minimum(tf.gather(size, row), tf.gather(lengths, row) - start)
    return row, start, length


def max_context_mask(lengths, row, start, length):
    """Whether each window gives each of its pieces the most context (run_squad.py's rule).

    A piece's score in a window holding it is `min(pieces left of it, pieces
    right of it) + 0.01 * window length`; the piece belongs to the window
    where it scores highest, the earliest on ties (the original's
    `_check_is_max_context`). Answers must start at such a piece.

    Args:
        lengths: int tensor `(batch,)`, as given to `sliding_windows`.
        row, start, length: the int tensors `(windows,)` it returned.

    Returns:
        bool `tf.RaggedTensor` `(windows, (length))`.

    Example:
    >>> windows = sliding_windows(tf.constant([6]), window_size=4, stride=2)  # pieces 0-3, 2-5
    >>> max_context_mask(tf.constant([6]), *windows).to_list()
    [[True, True, True, False], [False, True, True, True]]
    """
    lengths, row, start, length = (tf.cast(x, tf.int64) for x in (lengths, row, start, length))
    position = tf.ragged.range(length)  # (windows, (length))
    window = position.value_rowids()
    left = position.flat_values
    window_length = tf.gather(length, window)
    score = _LENGTH_WEIGHT * tf.minimum(left, window_length - 1 - left) + window_length
    key = score * (1 << _WINDOW_BITS) - window
    # Pieces numbered across all rows, so one segment max compares each piece's windows.
    piece = tf.gather(tf.cumsum(lengths, exclusive=True), tf.gather(row, window)) + tf.gather(start, window) + left
    best = tf.math.unsorted_segment_max(key, piece, tf.reduce_sum(lengths))
    return position.with_flat_values(tf.gather(best, piece) == key)


def pack_question_windows(question_ids, context_ids, seq_length, doc_stride, cls_id, sep_id):
    """`[CLS] question [SEP] window [SEP]` rows over each context's sliding windows.

    The windows hold what the question leaves, `seq_length - 3 - question
    pieces`, and are cut by `sliding_windows` with `stride=doc_stride`; the
    max-context mask is `max_context_mask`'s.

    Args:
        question_ids: int `tf.RaggedTensor` `(batch, (pieces))`, each row at
            most `seq_length - 4` pieces (cut to `max_query_length` first).
        context_ids: int `tf.RaggedTensor` `(batch, (pieces))`: each
            question's context.
        seq_length: int. Length of every row.
        doc_stride: int. Context pieces between window starts (at most).
        cls_id, sep_id: ids of `[CLS]` and `[SEP]`.

    Returns:
        `(inputs, windows)`: `inputs` the encoder's input dict, int32
        `(windows, seq_length)` each; `windows` a dict of `question_index`
        (int64 `(windows,)`: the question's row), `context_index` (int64
        `(windows, seq_length)`: the context piece at each position, -1 at
        `[CLS]`, the question, `[SEP]` and padding) and `is_max_context`
        (bool `(windows, seq_length)`).

    Raises:
        InvalidArgumentError: if a question leaves no room for context.

    Example:
    >>> inputs, windows = pack_question_windows(tf.ragged.constant([[7]]), tf.ragged.constant([[11, 12, 13, 14, 15]]),
    ...                                         seq_length=7, doc_stride=2, cls_id=2, sep_id=3)
    >>> inputs["input_word_ids"].numpy().tolist()
    [[2, 7, 3, 11, 12, 13, 3], [2, 7, 3, 13, 14, 15, 3]]
    >>> windows["context_index"].numpy().tolist()
    [[-1, -1, -1, 0, 1, 2, -1], [-1, -1, -1, 2, 3, 4, -1]]
    >>> windows["is_max_context"].numpy().astype(int).tolist()
    [[0, 0, 0, 1, 1, 1, 0], [0, 0, 0, 0, 1, 1, 0]]
    """
    question_lengths = question_ids.row_lengths()
    context_lengths = context_ids.row_lengths()
    room = seq_length - 3 - question_lengths
    checks = [tf.debugging.assert_positive(
        room, message=f"a question leaves no room for context in seq_length={seq_length}; cut questions shorter")]
    with tf.control_dependencies(checks):
        row, start, length = sliding_windows(context_lengths, room, doc_stride)
    first = tf.gather(context_ids.row_splits, row) + start
    window_ids = tf.gather(context_ids.flat_values, tf.ragged.range(first, first + length))
    inputs = pack_segments([tf.gather(question_ids, row), window_ids], seq_length, cls_id, sep_id)

    offset = tf.gather(question_lengths, row)[:, tf.newaxis] + 2  # the window's first position
    position = tf.range(seq_length, dtype=tf.int64)[tf.newaxis]
    in_window = (position >= offset) & (position < offset + length[:, tf.newaxis])
    piece_in_window = tf.clip_by_value(position - offset, 0, seq_length - 1)
    max_context = max_context_mask(context_lengths, row, start, length).to_tensor(False, shape=[None, seq_length])
    return inputs, {
        "question_index": row,
        "context_index": tf.where(in_window, start[:, tf.newaxis] + piece_in_window, -1),
        "is_max_context": in_window & tf.gather(max_context, piece_in_window, batch_dims=1),
    }


def context_values(values, question_index, context_index, default=-1):
    """Per-piece context values (e.g. character offsets) at each window position.

    Args:
        values: `tf.RaggedTensor` `(batch, (pieces))`, one value per context
            piece, such as `BertTokenizer.tokenize_with_offsets`' starts.
        question_index, context_index: from `pack_question_windows`.
        default: the value outside the context.

    Returns:
        A tensor `(windows, seq_length)` of `values`' dtype.

    Example:
    >>> _, windows = pack_question_windows(tf.ragged.constant([[7]]), tf.ragged.constant([[11, 12]]),
    ...                                    seq_length=6, doc_stride=2, cls_id=2, sep_id=3)
    >>> starts = tf.ragged.constant([[0, 4]], dtype=tf.int64)
    >>> context_values(starts, windows["question_index"], windows["context_index"]).numpy().tolist()
    [[-1, -1, -1, 0, 4, -1]]
    """
    flat = values.flat_values
    index = tf.gather(values.row_splits, question_index)[:, tf.newaxis] + context_index
    # Positions outside the context read one appended default (also when no context has pieces).
    index = tf.where(context_index >= 0, index, tf.size(flat, out_type=index.dtype))
    return tf.gather(tf.concat([flat, tf.constant([default], flat.dtype)], 0), index)
