"""First-piece word alignment: a word's label, and its prediction, sit at its first WordPiece.

The one definition for token classification: training features
(`token_classification_features`) place labels with it and the exported
tagger reads its predictions with it.
"""

import tensorflow as tf


def word_starts(word_pieces):
    """Which pieces begin a word, for text given as words.

    Args:
        word_pieces: `tf.RaggedTensor` `(batch, (words), (pieces))`, each
            word's WordPiece ids.

    Returns:
        bool `tf.RaggedTensor` `(batch, (pieces))`, the words' pieces laid
        end to end: True at each word's first piece.

    Example:
    >>> word_starts(tf.ragged.constant([[[5], [6, 7]], [[8, 9, 10]]])).to_list()
    [[True, True, False], [True, False, False]]
    """
    first = tf.ragged.range(word_pieces.values.row_lengths()) == 0
    return word_pieces.with_values(first).merge_dims(1, 2)


def first_piece_positions(is_word_start, offset=1):
    """Each word's first-piece position in its packed row.

    A word is labelled, and its prediction read, at its first WordPiece (the
    BERT paper's tagging setup); its other pieces carry no label.

    Args:
        is_word_start: bool `tf.RaggedTensor` `(batch, (pieces))`: True where
            a piece begins a word (`word_starts`, or
            `BertTokenizer.is_word_start` for running text).
        offset: int. Position of the row's first piece (1: after `[CLS]`).

    Returns:
        int64 `tf.RaggedTensor` `(batch, (words))`.

    Example:
    >>> first_piece_positions(tf.ragged.constant([[True, False, True], [True]])).to_list()
    [[1, 3], [1]]
    """
    positions = tf.ragged.range(is_word_start.row_lengths()) + offset
    return tf.ragged.boolean_mask(positions, is_word_start)
