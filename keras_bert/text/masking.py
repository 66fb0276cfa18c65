"""Masked-LM masking in-graph: BERT's 15% selection and 80/10/10 replacement.

(`next_token_targets` gives the left-to-right ablation's targets on the same budget.)

Selection follows the original `create_masked_lm_predictions`: in each
sequence, `round(rate * maskable tokens)` tokens (at least 1, at most
`max_predictions_per_seq`) are chosen in random order, never `[CLS]`,
`[SEP]` or padding. With whole-word masking the units are words: all
WordPieces of a word are chosen together, as long as they fit the budget.
Replacement follows tensorflow-text's `MaskValuesChooser` (80% `[MASK]`, 10%
a random token, 10% unchanged), applied through `tf_text.mask_language_model`.
With a `seed`, every draw is stateless: a batch's masks are a function of the
seed alone, so a resumed run can draw again exactly what it drew before.
"""

import tensorflow as tf
import tensorflow_text as tf_text


class BudgetedItemSelector(tf_text.RandomItemSelector):
    """Chooses whole items in random order until a per-row token budget is used.

    The items are the second axis of a `[batch, (items), (pieces)]` ragged
    tensor (one piece per item for token-level masking). Each row's budget is
    `min(max_selections, max(1, round(selection_rate * selectable pieces)))`;
    an item that would overflow it is skipped, so no item is partly chosen.
    tensorflow-text's `RandomItemSelector` rounds the count up and counts
    items, which would mask about 15.4% of 128-token rows; this selector
    reproduces the original's 15%.

    Args:
        selection_rate: float. Fraction of selectable pieces to choose.
        max_selections: int. Most pieces chosen per row.
        unselectable_ids: ids never chosen (`[CLS]`, `[SEP]`, `[PAD]`).
        seed: optional int `(2,)` tensor: the choice is
            `tf.random.stateless_uniform`'s under it; else a stateful draw.

    Example:
    >>> words = tf.ragged.constant([[[2], [7, 8], [9], [5], [3]]], ragged_rank=2)
    >>> chosen = BudgetedItemSelector(0.5, 4, [2, 3]).get_selection_mask(words)
    >>> pieces = tf.ragged.boolean_mask(words, chosen).flat_values
    >>> 1 <= int(tf.size(pieces)) <= 2  # the budget: round(0.5 * 4 selectable pieces)
    True
    """

    def __init__(self, selection_rate, max_selections, unselectable_ids, seed=None):
        # The public base keeps the rate, cap and unselectable ids; only the
        # choice itself (`get_selection_mask`) is ours.
        super().__init__(max_selections, selection_rate, unselectable_ids=list(unselectable_ids))
        self.seed = seed

    def get_selection_mask(self, input_ids, axis=1):
        if axis != 1:
            raise ValueError("BudgetedItemSelector selects along axis 1 only.")
        selectable = self.get_selectable(input_ids, axis)  # [batch, (items)]
        if input_ids.ragged_rank > 1:
            pieces = tf.cast(input_ids.values.row_lengths(), tf.int32)  # per item
        else:
            pieces = tf.ones_like(input_ids.values, tf.int32)
        pieces = selectable.with_values(pieces * tf.cast(selectable.values, tf.int32))
        budget = tf.cast(tf.round(self.selection_rate * tf.cast(tf.reduce_sum(pieces, 1), tf.float32)), tf.int32)
        budget = tf.minimum(tf.maximum(budget, 1), self.max_selections_per_batch)
        # A random priority for every selectable item; walk items in that order
        # and keep those whose running piece count stays within the budget.
        priority = tf.where(selectable.values, _uniform(tf.shape(selectable.values), self.seed), 2.0)
        dense_priority = selectable.with_values(priority).to_tensor(default_value=2.0)
        order = tf.argsort(dense_priority, axis=1, stable=True)
        dense_pieces = pieces.to_tensor()
        running = tf.cumsum(tf.gather(dense_pieces, order, batch_dims=1), axis=1)
        keep_in_order = running <= budget[:, None]
        # Scatter the decisions back from priority order to item order.
        keep = tf.gather(keep_in_order, tf.argsort(order, axis=1), batch_dims=1)
        keep = tf.logical_and(keep, dense_pieces > 0)
        return tf.RaggedTensor.from_tensor(keep, lengths=selectable.row_lengths())


def _uniform(shape, seed, maxval=1.0, dtype=tf.float32):
    """Uniform draws in `[0, maxval)`: stateless under `seed` (int `(2,)`), else stateful."""
    if seed is None:
        return tf.random.uniform(shape, maxval=maxval, dtype=dtype)
    return tf.random.stateless_uniform(shape, seed, maxval=maxval, dtype=dtype)


class SeededMaskValuesChooser(tf_text.MaskValuesChooser):
    """tensorflow-text's `MaskValuesChooser` replacement rule, its draws stateless under `seed`.

    Each chosen piece gets a uniform draw `u`: `u < mask_token_rate` becomes
    `mask_token`, `mask_token_rate < u < mask_token_rate + random_token_rate`
    a random id in `[0, vocab_size)`, the rest stay. tensorflow-text draws
    with stateful ops, whose sequence a restarted process cannot continue;
    `tf_text.mask_language_model` takes this chooser in its place.

    Args:
        vocab_size, mask_token, mask_token_rate, random_token_rate: as
            `tf_text.MaskValuesChooser`.
        seed: int `(2,)` tensor, or None for stateful draws.

    Example:
    >>> chooser = SeededMaskValuesChooser(10, 4, 1.0, 0.0, seed=tf.constant([1, 2]))
    >>> chooser.get_mask_values(tf.ragged.constant([[7, 8], [9]])).to_list()
    [[4, 4], [4]]
    """

    def __init__(self, vocab_size, mask_token, mask_token_rate=0.8, random_token_rate=0.1, seed=None):
        super().__init__(vocab_size, mask_token, mask_token_rate, random_token_rate)
        self.mask_rate, self.seed = mask_token_rate, seed  # the base keeps its mask rate private

    def get_mask_values(self, masked_lm_ids):
        flat = masked_lm_ids.flat_values
        seeds = (None, None) if self.seed is None else tf.unstack(tf.random.experimental.stateless_split(self.seed, 2))
        draw = _uniform(tf.shape(flat), seeds[0])
        random_ids = tf.cast(_uniform(tf.shape(flat), seeds[1], maxval=self.vocab_size, dtype=tf.int32), flat.dtype)
        values = tf.where(draw < self.mask_rate, tf.cast(self.mask_token, flat.dtype), flat)
        inject = (draw > self.mask_rate) & (draw < self.mask_rate + self.random_token_rate)
        return masked_lm_ids.with_flat_values(tf.where(inject, random_ids, values))


def group_pieces_into_words(token_ids, is_continuation):
    """Regroups `[batch, (pieces)]` ids into `[batch, (words), (pieces)]`.

    Args:
        token_ids: int `RaggedTensor` `[batch, (pieces)]`.
        is_continuation: bool `RaggedTensor` of the same shape: True where a
            piece continues the previous word (a `##` piece, or a character
            inside a segmented Chinese word).

    Example:
    >>> ids = tf.ragged.constant([[2, 7, 8, 9, 3]])
    >>> cont = tf.ragged.constant([[False, False, True, False, False]])
    >>> group_pieces_into_words(ids, cont).to_list()
    [[[2], [7, 8], [9], [3]]]
    """
    # A row's first piece always starts a word, whatever the flag says.
    starts = tf.logical_not(is_continuation.values)
    starts = tf.tensor_scatter_nd_update(
        starts, tf.expand_dims(token_ids.row_starts(), 1)[tf.not_equal(token_ids.row_lengths(), 0)],
        tf.ones([tf.math.count_nonzero(token_ids.row_lengths(), dtype=tf.int32)], tf.bool),
    )
    words = tf.RaggedTensor.from_row_starts(token_ids.values, tf.where(starts)[:, 0])
    row_words = tf.math.segment_sum(tf.cast(starts, tf.int64), token_ids.value_rowids())
    row_words = tf.pad(row_words, [[0, token_ids.nrows() - tf.shape(row_words, out_type=tf.int64)[0]]])
    return tf.RaggedTensor.from_row_lengths(words, row_words)


def mask_tokens(
    token_ids,
    vocab_size,
    mask_id,
    special_ids,
    max_predictions_per_seq,
    masked_lm_prob=0.15,
    mask_token_rate=0.8,
    random_token_rate=0.1,
    is_continuation=None,
    seed=None,
):
    """BERT's masked-LM corruption of a batch of packed sequences.

    Args:
        token_ids: int32 `(batch, seq_length)` ids, `[CLS] A [SEP] B [SEP]`
            then padding.
        vocab_size: int. Random replacements are drawn from `[0, vocab_size)`.
        mask_id: int. The `[MASK]` id.
        special_ids: ids never chosen: `[CLS]`, `[SEP]`, `[PAD]`.
        max_predictions_per_seq: int. Most positions chosen per row; also the
            width of the returned position/id/weight tensors.
        masked_lm_prob: float. Share of maskable tokens chosen. Default 0.15.
        mask_token_rate, random_token_rate: shares of the chosen tokens set to
            `[MASK]` and to a random token; the rest stay unchanged.
        is_continuation: optional bool `(batch, seq_length)`; when given,
            words (a piece and its continuations) are masked whole.
        seed: optional int `(2,)` tensor: the same seed, the same masks
            (stateless draws); None draws from TensorFlow's stateful RNG.

    Returns:
        A dict: `input_word_ids` (the corrupted ids, `(batch, seq_length)`),
        `masked_lm_positions`, `masked_lm_ids` (original ids there) and
        `masked_lm_weights` (1.0 for real predictions, 0.0 for padding), each
        `(batch, max_predictions_per_seq)`.

    Example:
    >>> ids = tf.constant([[2, 5, 6, 7, 8, 3, 0, 0]])
    >>> out = mask_tokens(ids, vocab_size=10, mask_id=4, special_ids=[0, 2, 3],
    ...                   max_predictions_per_seq=3, masked_lm_prob=0.5)
    >>> out["masked_lm_weights"].numpy().tolist()
    [[1.0, 1.0, 0.0]]
    """
    token_ids = tf.convert_to_tensor(token_ids)
    ragged = tf.RaggedTensor.from_tensor(token_ids)
    units = ragged
    if is_continuation is not None:
        units = group_pieces_into_words(ragged, tf.RaggedTensor.from_tensor(is_continuation, ragged.row_lengths()))
    seeds = (None, None) if seed is None else tf.unstack(tf.random.experimental.stateless_split(seed, 2))
    selector = BudgetedItemSelector(masked_lm_prob, max_predictions_per_seq, special_ids, seeds[0])
    chooser = SeededMaskValuesChooser(vocab_size, mask_id, mask_token_rate, random_token_rate, seeds[1])
    masked, positions, ids = tf_text.mask_language_model(units, selector, chooser)
    shape = [None, max_predictions_per_seq]
    return {
        "input_word_ids": tf.reshape(masked.to_tensor(shape=tf.shape(token_ids)), tf.shape(token_ids)),
        "masked_lm_positions": tf.cast(positions.to_tensor(shape=shape), tf.int32),
        "masked_lm_ids": tf.cast(ids.to_tensor(shape=shape), token_ids.dtype),
        "masked_lm_weights": tf.ones_like(positions, tf.float32).to_tensor(shape=shape),
    }


def next_token_targets(token_ids, special_ids, max_predictions_per_seq, prediction_prob=0.15, seed=None):
    """Left-to-right LM targets with the masked LM's budget: no corruption.

    The paper's "LTR" ablation trains a left-to-right language model instead
    of the masked LM. To compare the two at the same budget, the same tokens
    are chosen as targets (`round(prediction_prob * non-special tokens)`,
    never `[CLS]`, `[SEP]` or padding, at most `max_predictions_per_seq`),
    but each is predicted from the position before it, and the input is left
    unchanged. With a causal encoder that position has seen only the tokens
    to its left.

    Args:
        token_ids: int32 `(batch, seq_length)` ids, `[CLS] A [SEP] B [SEP]`
            then padding.
        special_ids: ids never predicted: `[CLS]`, `[SEP]`, `[PAD]`.
        max_predictions_per_seq: int. Width of the returned tensors.
        prediction_prob: float. Share of non-special tokens predicted.
        seed: optional int `(2,)` tensor, as for `mask_tokens`.

    Returns:
        The dict of `mask_tokens`: `input_word_ids` (unchanged),
        `masked_lm_positions` (the positions predicting, each one before its
        target), `masked_lm_ids` (the targets) and `masked_lm_weights`, each
        `(batch, max_predictions_per_seq)` but the first.

    Example:
    >>> ids = tf.constant([[2, 5, 6, 7, 8, 3, 0, 0]])
    >>> out = next_token_targets(ids, special_ids=[0, 2, 3], max_predictions_per_seq=4,
    ...                          prediction_prob=1.0)
    >>> out["masked_lm_positions"].numpy().tolist(), out["masked_lm_ids"].numpy().tolist()
    ([[0, 1, 2, 3]], [[5, 6, 7, 8]])
    """
    token_ids = tf.convert_to_tensor(token_ids)
    ragged = tf.RaggedTensor.from_tensor(token_ids)
    selector = BudgetedItemSelector(prediction_prob, max_predictions_per_seq, special_ids, seed)
    chosen = selector.get_selection_mask(ragged)
    targets = tf.ragged.boolean_mask(tf.ragged.range(ragged.row_lengths()), chosen)  # ascending
    shape = [None, max_predictions_per_seq]
    weights = tf.ones_like(targets, tf.float32).to_tensor(shape=shape)
    target_ids = tf.gather(token_ids, tf.cast(targets.to_tensor(shape=shape), tf.int32), batch_dims=1)
    return {
        "input_word_ids": token_ids,
        "masked_lm_positions": tf.cast((targets - 1).to_tensor(shape=shape), tf.int32),
        "masked_lm_ids": tf.where(weights > 0, target_ids, tf.zeros_like(target_ids)),  # 0 in empty slots, as mask_tokens
        "masked_lm_weights": weights,
    }
