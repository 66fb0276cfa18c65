"""The two op sets `BertTokenizer` can split and WordPiece-match normalized text with.

- `"fast"`: tensorflow-text's `FastWordpieceTokenizer`, which splits words
  and matches pieces in one kernel (`FastWordpieceTokenizeWithOffsets`).
- `"tf_serving"`: a regex word split (`RegexSplitWithOffsets`) and the
  original WordPiece kernel over a vocabulary hash table
  (`WordpieceTokenizeWithOffsets`), ops that every stock TensorFlow Serving
  model server since 2.2 links (`keras_bert.export.TF_SERVING_TEXT_OPS`).

Both take text that `normalize_text` has cleaned and give the same pieces
with the same byte offsets: words end at whitespace, and punctuation and
CJK ideographs are words of their own, as in the original BERT.
"""

import tensorflow as tf
import tensorflow_text as tf_text

TOKENIZER_OPS = ("fast", "tf_serving")

# The original `_is_chinese_char` ranges (FastWordpiece's `IsPunctuationOrChineseChar` has the same).
_CJK = (r"\x{4E00}-\x{9FFF}\x{3400}-\x{4DBF}\x{20000}-\x{2A6DF}\x{2A700}-\x{2B73F}\x{2B740}-\x{2B81F}"
        r"\x{2B820}-\x{2CEAF}\x{F900}-\x{FAFF}\x{2F800}-\x{2FA1F}")
# FastWordpiece's punctuation is ICU's `u_ispunct` (categories P*) plus the
# ASCII symbols. RE2's `\p{P}` lacks the punctuation Unicode 16.0 added,
# which tensorflow-text's ICU has: those code points are spelled out (a
# code-point sweep in tests/text/tf_serving_tokenizer_test.py finds any other).
_UNICODE_16_PUNCTUATION = (r"\x{1B4E}\x{1B4F}\x{1B7F}\x{10D6E}\x{113D4}\x{113D5}\x{113D7}\x{113D8}"
                           r"\x{11BE1}\x{16D6D}-\x{16D6F}\x{1E5FF}")
_KEPT_DELIMITERS = rf"[!-/:-@\[-`{{-~\p{{P}}{_UNICODE_16_PUNCTUATION}{_CJK}]"
# After `normalize_text` the only whitespace left is the space (it turns tab,
# newline, return and category Z into spaces and drops the other control characters).
_DELIMITERS = rf"\p{{Z}}|{_KEPT_DELIMITERS}"


def check_tokenizer_ops(ops, argument="ops"):
    """Raises `ValueError`, naming `argument`, unless `ops` is one of `TOKENIZER_OPS`.

    Example:
    >>> check_tokenizer_ops("tf_serving")
    >>> check_tokenizer_ops("slow", "tokenizer_ops")
    Traceback (most recent call last):
    ValueError: tokenizer_ops='slow' is not a tokenizer op set; use 'fast' ...
    """
    if ops not in TOKENIZER_OPS:
        raise ValueError(
            f"{argument}={ops!r} is not a tokenizer op set; use 'fast' (tensorflow-text's fast WordPiece kernel) "
            "or 'tf_serving' (only ops every stock TensorFlow Serving model server since 2.2 links)."
        )


def wordpiece_ops(vocab, max_bytes_per_word, ops):
    """A `FastWordpiece` or `ServingWordpiece` (`ops`: "fast" or "tf_serving") for `vocab`.

    Both take `normalize_text`'s output, a string tensor `[batch]`, and give
    int32 ids `[batch, (pieces)]` (with `tokenize_with_offsets`, also int64
    byte offsets of the same shape).

    Example:
    >>> vocab = ["[UNK]", "un", "##aff", "##able", "."]
    >>> text = tf.constant(["unaffable ."])
    >>> [wordpiece_ops(vocab, 100, ops).tokenize(text).to_list() for ops in TOKENIZER_OPS]
    [[[1, 2, 3, 4]], [[1, 2, 3, 4]]]
    """
    check_tokenizer_ops(ops)
    return (FastWordpiece if ops == "fast" else ServingWordpiece)(vocab, max_bytes_per_word)


class FastWordpiece(tf.Module):
    """Words and pieces in one tensorflow-text kernel, `FastWordpieceTokenizeWithOffsets`.

    Raises:
        RuntimeError: no vocabulary entry could match a word (tensorflow-text's check).
    """

    def __init__(self, vocab, max_bytes_per_word):
        super().__init__()
        self._tokenizer = tf_text.FastWordpieceTokenizer(
            vocab=vocab,
            token_out_type=tf.int32,
            max_bytes_per_word=max_bytes_per_word,
            support_detokenization=True,
        )

    def tokenize(self, normalized):
        return self._tokenizer.tokenize(normalized)

    def tokenize_with_offsets(self, normalized):
        """int32 ids and int64 byte offsets in `normalized`, each `(batch, (pieces))`."""
        return self._tokenizer.tokenize_with_offsets(normalized)

    def detokenize(self, ids):
        return self._tokenizer.detokenize(ids)


class ServingWordpiece(tf.Module):
    """`RegexSplitWithOffsets` into words, then `WordpieceTokenizeWithOffsets` on a vocabulary hash table.

    The table is a `tf.lookup.StaticHashTable`, tracked by this module: a
    SavedModel that holds the tokenizer fills it in its init op, which TF
    Serving and TensorFlow's loaders run when they load the model.
    """

    def __init__(self, vocab, max_bytes_per_word):
        super().__init__()
        self._vocab = tf.constant(vocab)
        self.table = tf.lookup.StaticHashTable(
            tf.lookup.KeyValueTensorInitializer(self._vocab, tf.range(len(vocab), dtype=tf.int64)),
            default_value=-1,
        )
        # Filled eagerly, the table leaves None (its eager init op) in the
        # global TABLE_INITIALIZERS collection, which tf.functions share and
        # freezing warns about ("Issue encountered when serializing").
        initializers = tf.compat.v1.get_collection_ref(tf.compat.v1.GraphKeys.TABLE_INITIALIZERS)
        initializers[:] = [op for op in initializers if op is not None]
        self._max_bytes_per_word = max_bytes_per_word
        self._wordpiece = tf_text.WordpieceTokenizer(
            self.table, max_bytes_per_word=max_bytes_per_word, token_out_type=tf.int32, unknown_token="[UNK]"
        )

    def tokenize(self, normalized):
        words = tf_text.regex_split(normalized, _DELIMITERS, _KEPT_DELIMITERS)
        return self._wordpiece.tokenize(words).merge_dims(1, 2)

    def tokenize_with_offsets(self, normalized):
        """int32 ids and int64 byte offsets in `normalized`, each `(batch, (pieces))`."""
        words, word_starts, word_ends = tf_text.regex_split_with_offsets(normalized, _DELIMITERS, _KEPT_DELIMITERS)
        ids, starts, ends = self._wordpiece.tokenize_with_offsets(words)
        # A word over max_bytes_per_word is one [UNK], which the kernel ends
        # at len("[UNK]"): it ends where the word does.
        word_bytes = tf.gather((word_ends - word_starts).flat_values, ends.values.value_rowids())
        ends = ends.with_flat_values(tf.where(word_bytes > self._max_bytes_per_word, word_bytes, ends.flat_values))
        # Piece offsets count from their word's first byte.
        word_starts = tf.expand_dims(word_starts, -1)
        return ids.merge_dims(1, 2), (starts + word_starts).merge_dims(1, 2), (ends + word_starts).merge_dims(1, 2)

    def detokenize(self, ids):
        """FastWordpiece's detokenization: pieces joined by spaces, `##` continuations glued on."""
        text = tf.strings.reduce_join(tf.gather(self._vocab, ids), axis=-1, separator=" ")
        return tf.strings.regex_replace(text, " ##", "")
