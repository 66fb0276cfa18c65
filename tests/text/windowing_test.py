"""SQuAD windows and the max-context rule equal google-research/bert run_squad.py's, for random sizes."""

import numpy as np
import pytest
import tensorflow as tf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from keras_bert.text.windowing import context_values, max_context_mask, pack_question_windows, sliding_windows

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
CLS, SEP = 2, 3


def _original_doc_spans(num_doc_tokens, max_tokens_for_doc, doc_stride):
    """run_squad.py's `convert_examples_to_features` loop, as written there."""
    doc_spans = []
    start_offset = 0
    while start_offset < num_doc_tokens:
        length = min(num_doc_tokens - start_offset, max_tokens_for_doc)
        doc_spans.append((start_offset, length))
        if start_offset + length == num_doc_tokens:
            break
        start_offset += min(length, doc_stride)
    return doc_spans


def _original_is_max_context(doc_spans, cur_span_index, position):
    """run_squad.py's `_check_is_max_context`, as written there."""
    best_score, best_span_index = None, None
    for span_index, (start, length) in enumerate(doc_spans):
        end = start + length - 1
        if position < start or position > end:
            continue
        score = min(position - start, end - position) + 0.01 * length
        if best_score is None or score > best_score:
            best_score, best_span_index = score, span_index
    return cur_span_index == best_span_index


@st.composite
def _questions(draw):
    """Context and question lengths, sequence length and stride, with the question leaving room."""
    seq_length = draw(st.integers(5, 64))
    batch = draw(st.integers(1, 4))
    question_lengths = draw(st.lists(st.integers(0, seq_length - 4), min_size=batch, max_size=batch))
    context_lengths = draw(st.lists(st.integers(0, 300), min_size=batch, max_size=batch))
    doc_stride = draw(st.integers(1, 160))
    return question_lengths, context_lengths, seq_length, doc_stride


@FUZZ
@given(_questions())
def test_windows_and_max_context_equal_run_squad(sizes):
    question_lengths, context_lengths, seq_length, doc_stride = sizes
    room = seq_length - 3 - np.array(question_lengths)
    row, start, length = sliding_windows(tf.constant(context_lengths), tf.constant(room), doc_stride)
    max_context = max_context_mask(tf.constant(context_lengths), row, start, length).to_list()
    windows = list(zip(row.numpy().tolist(), start.numpy().tolist(), length.numpy().tolist(), max_context))
    for q, num_pieces in enumerate(context_lengths):
        mine = [(s, n, m) for r, s, n, m in windows if r == q]
        expected = _original_doc_spans(num_pieces, int(room[q]), doc_stride)
        if num_pieces == 0:  # one empty window, where the original has none
            assert mine == [(0, 0, [])]
            continue
        assert [(s, n) for s, n, _ in mine] == expected
        covered = sorted({s + k for s, n, _ in mine for k in range(n)})
        assert covered == list(range(num_pieces))  # no piece skipped
        for index, (s, n, mask) in enumerate(mine):
            assert mask == [_original_is_max_context(expected, index, s + k) for k in range(n)]


@FUZZ
@given(_questions(), st.randoms(use_true_random=False))
def test_packed_windows_hold_the_question_then_the_window(sizes, rng):
    question_lengths, context_lengths, seq_length, doc_stride = sizes
    questions = [[rng.randrange(5, 50) for _ in range(n)] for n in question_lengths]
    contexts = [[rng.randrange(50, 99) for _ in range(n)] for n in context_lengths]
    inputs, windows = pack_question_windows(tf.ragged.constant(questions, tf.int32, ragged_rank=1),
                                            tf.ragged.constant(contexts, tf.int32, ragged_rank=1),
                                            seq_length, doc_stride, CLS, SEP)
    offsets = tf.ragged.constant([[10 * k for k in range(n)] for n in context_lengths], tf.int64, ragged_rank=1)
    values = context_values(offsets, windows["question_index"], windows["context_index"]).numpy()
    rows = zip(windows["question_index"].numpy(), windows["context_index"].numpy(), values,
               inputs["input_word_ids"].numpy(), inputs["input_type_ids"].numpy(), inputs["input_mask"].numpy())
    for q, context_index, value, ids, type_ids, mask in rows:
        pieces = context_index[context_index >= 0]
        expected = [CLS, *questions[q], SEP, *[contexts[q][k] for k in pieces], SEP]
        assert ids.tolist() == expected + [0] * (seq_length - len(expected))
        assert mask.tolist() == [1] * len(expected) + [0] * (seq_length - len(expected))
        assert type_ids.tolist() == [0] * (len(questions[q]) + 2) + [1] * (len(pieces) + 1) + [0] * (
            seq_length - len(expected))
        assert (np.flatnonzero(context_index >= 0) == np.arange(len(pieces)) + len(questions[q]) + 2).all()
        assert value.tolist() == [10 * k if k >= 0 else -1 for k in context_index]
    assert windows["is_max_context"].numpy().sum() == sum(context_lengths)  # each piece has one window


def test_a_question_that_leaves_no_room_is_refused():
    with pytest.raises(tf.errors.InvalidArgumentError, match="leaves no room for context in seq_length=6"):
        pack_question_windows(tf.ragged.constant([[5, 6, 7]]), tf.ragged.constant([[8]]), 6, 2, CLS, SEP)
