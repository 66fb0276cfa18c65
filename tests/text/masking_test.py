"""Masked-LM masking: the paper's rates, measured over more than a million tokens."""

import numpy as np
import pytest
import tensorflow as tf

from keras_bert.text.masking import group_pieces_into_words, mask_tokens, next_token_targets

VOCAB_SIZE, PAD, CLS, SEP, MASK = 1000, 0, 2, 3, 4
SPECIAL = (PAD, CLS, SEP)


def _packed_batch(rng, rows, seq_length):
    """`[CLS] A [SEP] B [SEP]` rows of random length with random ordinary ids, then padding."""
    ids = np.zeros((rows, seq_length), np.int32)
    for row in range(rows):
        length = rng.integers(8, seq_length + 1)
        split = rng.integers(2, length - 2)
        ids[row, :length] = rng.integers(5, VOCAB_SIZE, length)
        ids[row, [0, split, length - 1]] = [CLS, SEP, SEP]
    return ids


def _mask_many(rng, batches, rows=512, seq_length=128, **kwargs):
    for _ in range(batches):
        ids = _packed_batch(rng, rows, seq_length)
        continuation = None
        if kwargs.get("whole_word"):
            # About a third of ordinary pieces continue the previous word.
            continuation = (rng.random(ids.shape) < 0.35) & ~np.isin(ids, SPECIAL)
        out = mask_tokens(
            ids, VOCAB_SIZE, MASK, SPECIAL, kwargs.get("max_predictions", 20),
            is_continuation=None if continuation is None else tf.constant(continuation),
        )
        yield ids, continuation, {k: v.numpy() for k, v in out.items()}


def test_rates_over_a_million_tokens():
    rng = np.random.default_rng(0)
    maskable = chosen = to_mask = unchanged = special_chosen = 0
    for ids, _, out in _mask_many(rng, batches=32):  # 32 * 512 rows * ~65 maskable tokens
        weights = out["masked_lm_weights"] > 0
        rows, slots = np.nonzero(weights)
        positions = out["masked_lm_positions"][rows, slots]
        original = ids[rows, positions]
        new = out["input_word_ids"][rows, positions]
        np.testing.assert_array_equal(out["masked_lm_ids"][rows, slots], original)
        special_chosen += np.isin(original, SPECIAL).sum()
        maskable += (~np.isin(ids, SPECIAL)).sum()
        chosen += len(positions)
        to_mask += (new == MASK).sum()
        unchanged += (new == original).sum()
        # Nothing outside the chosen positions changed.
        changed = np.argwhere(out["input_word_ids"] != ids)
        assert set(map(tuple, changed)) <= set(zip(rows, positions))
    assert maskable > 1_000_000
    assert special_chosen == 0
    assert abs(chosen / maskable - 0.15) < 0.003, chosen / maskable
    assert abs(to_mask / chosen - 0.8) < 0.01
    # A random replacement equals the original 1 time in VOCAB_SIZE: negligible.
    assert abs(unchanged / chosen - 0.1) < 0.01
    assert abs((chosen - to_mask - unchanged) / chosen - 0.1) < 0.01


def test_max_predictions_is_respected_and_every_row_gets_one():
    rng = np.random.default_rng(1)
    for ids, _, out in _mask_many(rng, batches=1, max_predictions=5):
        per_row = out["masked_lm_weights"].sum(1)
        assert per_row.max() == 5 and per_row.min() >= 1
        maskable = (~np.isin(ids, SPECIAL)).sum(1)
        np.testing.assert_array_equal(per_row, np.clip(np.round(0.15 * maskable), 1, 5))


def test_whole_word_masking_never_masks_part_of_a_word():
    rng = np.random.default_rng(2)
    words_chosen = pieces = maskable = 0
    for ids, continuation, out in _mask_many(rng, batches=16, whole_word=True):
        weights = out["masked_lm_weights"] > 0
        chosen = np.zeros(ids.shape, bool)
        rows, slots = np.nonzero(weights)
        chosen[rows, out["masked_lm_positions"][rows, slots]] = True
        word_ids = np.cumsum(~continuation, axis=1)  # a word's pieces share an id
        for row in range(ids.shape[0]):
            for word in np.unique(word_ids[row][chosen[row]]):
                members = chosen[row][word_ids[row] == word]
                assert members.all(), f"row {row}: word {word} partly masked"
                words_chosen += 1
        pieces += chosen.sum()
        maskable += (~np.isin(ids, SPECIAL)).sum()
        assert out["masked_lm_weights"].sum(1).max() <= 20
    assert words_chosen > 10_000
    # Words are skipped when they overflow the budget, so slightly under 15%.
    assert 0.13 < pieces / maskable <= 0.15


def test_group_pieces_into_words_handles_empty_rows_and_leading_continuations():
    ids = tf.ragged.constant([[5, 6, 7], [], [8, 9]])
    cont = tf.ragged.constant([[True, True, False], [], [False, True]])
    assert group_pieces_into_words(ids, cont).to_list() == [[[5, 6], [7]], [], [[8, 9]]]


@pytest.mark.parametrize("rate", [0.0, 1.0])
def test_all_or_nothing_replacement_rates(rate):
    ids = _packed_batch(np.random.default_rng(3), 64, 32)
    out = mask_tokens(ids, VOCAB_SIZE, MASK, SPECIAL, 5, mask_token_rate=rate, random_token_rate=0.0)
    weights = out["masked_lm_weights"].numpy() > 0
    rows, slots = np.nonzero(weights)
    new = out["input_word_ids"].numpy()[rows, out["masked_lm_positions"].numpy()[rows, slots]]
    assert ((new == MASK).mean()) == rate


def test_next_token_targets_have_the_masked_lm_budget_and_leave_the_input_alone():
    rng = np.random.default_rng(4)
    ids = _packed_batch(rng, 256, 64)
    ltr = {k: v.numpy() for k, v in next_token_targets(ids, SPECIAL, 10).items()}
    mlm = {k: v.numpy() for k, v in mask_tokens(ids, VOCAB_SIZE, MASK, SPECIAL, 10).items()}
    np.testing.assert_array_equal(ltr["input_word_ids"], ids)  # no corruption
    # The same number of predictions per row as the masked LM: round(0.15 * ordinary tokens), 1 to 10.
    np.testing.assert_array_equal(ltr["masked_lm_weights"].sum(1), mlm["masked_lm_weights"].sum(1))
    rows, slots = np.nonzero(ltr["masked_lm_weights"])
    positions = ltr["masked_lm_positions"][rows, slots]
    targets = ltr["masked_lm_ids"][rows, slots]
    # Each target is the token right after its position, and never [CLS], [SEP] or padding.
    np.testing.assert_array_equal(targets, ids[rows, positions + 1])
    assert not np.isin(targets, SPECIAL).any()
    # Empty slots: position 0, id 0, weight 0.
    empty = ltr["masked_lm_weights"] == 0
    assert (ltr["masked_lm_positions"][empty] == 0).all() and (ltr["masked_lm_ids"][empty] == 0).all()
