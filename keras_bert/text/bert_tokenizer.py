"""`BertTokenizer`: in-graph WordPiece tokenization on tensorflow-text."""

import keras
import tensorflow as tf
import tensorflow_text as tf_text

from keras_bert.text.vocab import load_vocab

# The original BasicTokenizer drops control and format characters and U+FFFD;
# Hugging Face's `tokenizers` (the parity reference) also drops private-use
# ones. Tab, newline and carriage return are whitespace, handled first.
_WHITESPACE_CONTROLS = r"[\t\n\r]"
_DROPPED = r"[\p{Cc}\p{Cf}\p{Co}\x{FFFD}]"


@keras.saving.register_keras_serializable(package="keras_bert")
class BertTokenizer(keras.layers.Layer):
    """Splits strings into WordPiece ids, as the original BERT tokenizer does.

    Runs inside the graph (tf.data, `tf.function`, SavedModel) on
    tensorflow-text's `FastBertTokenizer`, after the original's text cleaning:
    control and format characters and U+FFFD are dropped (invalid UTF-8 bytes
    become U+FFFD first, so they are dropped too), and for uncased
    vocabularies the text is NFD-decomposed, stripped of combining marks and
    lower-cased one character at a time. (tensorflow-text's own uncased mode
    uses NFKC case folding instead, which turns `…` into `...` and `ß` into
    `ss`.) Punctuation and CJK ideographs split words; a word of more than
    `max_chars_per_word` characters becomes one `[UNK]`.

    Args:
        vocab_file: str. The WordPiece `vocab.txt`.
        lower_case: bool. True for uncased vocabularies. Defaults to `True`.
        max_chars_per_word: int. Longer words become `[UNK]`. Defaults to
            `100`, as in the original.
        **kwargs: Passed to `keras.layers.Layer`.

    Call arguments:
        text: string tensor `(batch_size,)`.

    Returns:
        int32 `tf.RaggedTensor` `(batch_size, (num_pieces))`, no special
        tokens.

    Example:
    >>> import tempfile
    >>> vocab = tempfile.mktemp()
    >>> _ = open(vocab, "w").write("\\n".join(
    ...     ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "un", "##aff", "##able", "."]))
    >>> tokenizer = BertTokenizer(vocab)
    >>> tokenizer(tf.constant(["Unaffable."])).to_list()
    [[5, 6, 7, 8]]
    >>> ids, starts, ends = tokenizer.tokenize_with_offsets(tf.constant(["Ünaffable."]))
    >>> starts.to_list(), ends.to_list()
    ([[0, 2, 5, 9]], [[2, 5, 9, 10]])
    """

    def __init__(self, vocab_file, lower_case=True, max_chars_per_word=100, **kwargs):
        super().__init__(**kwargs)
        self.vocab_file = vocab_file
        self.lower_case = lower_case
        self.max_chars_per_word = max_chars_per_word
        self.vocab = load_vocab(vocab_file)
        self._unk_id = self.vocab.index("[UNK]")
        self._is_suffix = tf.constant([token.startswith("##") for token in self.vocab])
        self._tokenizer = tf_text.FastBertTokenizer(
            vocab=self.vocab,
            token_out_type=tf.int32,
            # UTF-8 takes up to 4 bytes a character; words over
            # max_chars_per_word characters are caught in `_collapse_long_words`.
            max_bytes_per_word=4 * max_chars_per_word,
            lower_case_nfd_strip_accents=False,
            support_detokenization=True,
        )

    @property
    def vocab_size(self):
        return len(self.vocab)

    def token_to_id(self, token):
        """The id of `token`; raises `KeyError` naming it when absent."""
        try:
            return self.vocab.index(token)
        except ValueError:
            raise KeyError(f"Token {token!r} is not in {self.vocab_file}.") from None

    def normalize(self, text):
        """The cleaned (and, if uncased, lower-cased and unaccented) text.

        Works on whole strings or on single characters alike; every step maps
        one character at a time, so normalizing character by character and
        joining gives the same string (which `tokenize_with_offsets` uses).
        """
        text = tf.strings.unicode_transcode(
            text, "UTF-8", "UTF-8", errors="replace", replacement_char=0xFFFD
        )
        text = tf.strings.regex_replace(text, _WHITESPACE_CONTROLS, " ")
        text = tf.strings.regex_replace(text, _DROPPED, "")
        if self.lower_case:
            text = tf_text.normalize_utf8(text, "NFD")
            text = tf.strings.regex_replace(text, r"\p{Mn}", "")
            # ICU lower-cases a word-final capital sigma to "ς"; character by
            # character (the original, and Hugging Face) it is always "σ".
            text = tf.strings.regex_replace(text, "Σ", "σ")
            text = tf.strings.lower(text, encoding="utf-8")
        return text

    def call(self, text):
        normalized = self.normalize(text)
        ids, starts, ends = self._tokenizer.tokenize_with_offsets(normalized)
        return self._collapse_long_words(normalized, ids, starts, ends)[0]

    def tokenize_with_offsets(self, text):
        """Ids plus each piece's character span in the original string.

        Args:
            text: string tensor `(batch_size,)`.

        Returns:
            `(ids, starts, ends)`, int32 / int64 / int64 `tf.RaggedTensor`s
            `(batch_size, (num_pieces))`; piece `i` covers characters
            `[starts[i], ends[i])` of its string (as Python slices them).
            An invalid UTF-8 sequence counts as one character.
        """
        text = tf.strings.unicode_transcode(
            text, "UTF-8", "UTF-8", errors="replace", replacement_char=0xFFFD
        )
        chars = tf.strings.unicode_split(text, "UTF-8")
        normalized_chars = tf.ragged.map_flat_values(self.normalize, chars)
        normalized = tf.strings.reduce_join(normalized_chars, axis=-1)
        ids, starts, ends = self._tokenizer.tokenize_with_offsets(normalized)
        ids, starts, ends = self._collapse_long_words(normalized, ids, starts, ends)
        # Byte offsets in `normalized` -> character offsets in `text`: char k
        # of the original ends at byte char_ends[k] of the normalized text.
        char_ends = tf.math.cumsum(
            tf.ragged.map_flat_values(tf.strings.length, normalized_chars), axis=1
        )
        padded_ends = char_ends.to_tensor(default_value=tf.int32.max)
        dense_starts = tf.cast(starts.to_tensor(), tf.int32)
        dense_ends = tf.cast(ends.to_tensor(), tf.int32)
        char_starts = tf.searchsorted(padded_ends, dense_starts, side="right")
        char_stops = tf.searchsorted(padded_ends, dense_ends, side="left") + 1
        lengths = ids.row_lengths()
        return (
            ids,
            tf.RaggedTensor.from_tensor(tf.cast(char_starts, tf.int64), lengths=lengths),
            tf.RaggedTensor.from_tensor(tf.cast(char_stops, tf.int64), lengths=lengths),
        )

    def _collapse_long_words(self, normalized, ids, starts, ends):
        """Replaces the pieces of each word over `max_chars_per_word` by one `[UNK]`."""
        flat_ids = ids.flat_values
        is_word_start = tf.logical_not(tf.gather(self._is_suffix, flat_ids))
        word_index = tf.cumsum(tf.cast(is_word_start, tf.int32)) - 1
        word_start = tf.math.segment_min(starts.flat_values, word_index)
        word_end = tf.math.segment_max(ends.flat_values, word_index)
        # Character counts only matter where bytes could exceed the limit.
        candidates = tf.where(word_end - word_start > self.max_chars_per_word)[:, 0]
        rows = tf.gather(ids.value_rowids(), tf.gather(tf.where(is_word_start)[:, 0], candidates))
        spans = tf.strings.substr(
            tf.gather(normalized, rows),
            tf.gather(word_start, candidates),
            tf.gather(word_end - word_start, candidates),
        )
        too_long = tf.strings.length(spans, unit="UTF8_CHAR") > self.max_chars_per_word
        long_words = tf.scatter_nd(
            tf.boolean_mask(candidates, too_long)[:, None],
            tf.ones_like(tf.boolean_mask(candidates, too_long), dtype=tf.bool),
            tf.shape(word_start, out_type=tf.int64),
        )
        in_long_word = tf.gather(long_words, word_index)
        keep = tf.logical_or(is_word_start, tf.logical_not(in_long_word))
        new_ids = tf.where(in_long_word, self._unk_id, flat_ids)
        new_ends = tf.where(in_long_word, tf.gather(word_end, word_index), ends.flat_values)
        return tuple(
            tf.ragged.boolean_mask(ids.with_flat_values(values), ids.with_flat_values(keep))
            for values in (new_ids, starts.flat_values, new_ends)
        )

    def detokenize(self, ids):
        """Ids `(batch, (pieces))` back to strings, `##` pieces joined."""
        return self._tokenizer.detokenize(ids)

    def compute_output_spec(self, text):
        return keras.KerasTensor((text.shape[0], None), dtype="int32", ragged=True)

    def get_config(self):
        config = super().get_config()
        config.update(
            vocab_file=self.vocab_file,
            lower_case=self.lower_case,
            max_chars_per_word=self.max_chars_per_word,
        )
        return config
