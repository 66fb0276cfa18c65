"""`BertTokenizer`: in-graph WordPiece tokenization on tensorflow-text."""

import keras
import tensorflow as tf

from keras_bert.presets import checkpoint_vocab_file, resolve_lower_case
from keras_bert.text.normalization import normalize_text
from keras_bert.text.tokenizer_ops import check_tokenizer_ops, wordpiece_ops
from keras_bert.text.vocab import load_vocab, special_token_ids


@keras.saving.register_keras_serializable(package="keras_bert")
class BertTokenizer(keras.layers.Layer):
    """Splits strings into WordPiece ids, as the original BERT tokenizer does.

    Runs inside the graph (tf.data, `tf.function`, SavedModel) on
    tensorflow-text's WordPiece kernels, after the original's text cleaning:
    control and format characters and U+FFFD are dropped (invalid UTF-8 bytes
    become U+FFFD first, so they are dropped too), and for uncased
    vocabularies the text is NFD-decomposed, stripped of combining marks and
    lower-cased one character at a time. (tensorflow-text's own uncased mode
    uses NFKC case folding instead, which turns `…` into `...` and `ß` into
    `ss`.) Punctuation and CJK ideographs split words; a word of more than
    `max_chars_per_word` characters becomes one `[UNK]`.

    Of the special tokens, the vocabulary needs only `[UNK]`; packing
    (`BertPreprocessor`) and masking (`MaskingOptions`) check for theirs.

    Two op sets give the same ids (`ops`): `"fast"` splits words and matches
    pieces in one kernel, tensorflow-text's `FastWordpieceTokenizer`;
    `"tf_serving"` splits with a regex and matches with the original
    WordPiece kernel over a vocabulary hash table, ops that every stock
    TensorFlow Serving model server since 2.2 links (the fast kernel only
    since 2.10), for `export_saved_model(..., tokenizer_ops="tf_serving")`.
    The normalization and packing ops are the same for both.

    Args:
        vocab_file: str. The WordPiece `vocab.txt`.
        lower_case: bool. True for uncased vocabularies. Defaults to `True`.
        max_chars_per_word: int. Longer words become `[UNK]`. Defaults to
            `100`, as in the original.
        ops: str. `"fast"` (the default) or `"tf_serving"`: the kernels
            that split and match, as above.
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
    ...     ["[UNK]", "un", "##aff", "##able", "."]))
    >>> tokenizer = BertTokenizer(vocab)
    >>> tokenizer(tf.constant(["Unaffable.", "Unaffablé!"])).to_list()
    [[1, 2, 3, 4], [1, 2, 3, 0]]
    >>> ids, starts, ends = tokenizer.tokenize_with_offsets(tf.constant(["Ünaffable."]))
    >>> starts.to_list(), ends.to_list()
    ([[0, 2, 5, 9]], [[2, 5, 9, 10]])
    >>> BertTokenizer(vocab, ops="tf_serving")(tf.constant(["Unaffable.", "Unaffablé!"])).to_list()
    [[1, 2, 3, 4], [1, 2, 3, 0]]
    """

    def __init__(self, vocab_file, lower_case=True, max_chars_per_word=100, ops="fast", **kwargs):
        super().__init__(**kwargs)
        check_tokenizer_ops(ops)
        self.vocab_file = vocab_file
        self.lower_case = lower_case
        self.max_chars_per_word = max_chars_per_word
        self.ops = ops
        self.vocab = load_vocab(vocab_file)
        (self._unk_id,) = special_token_ids(self.vocab, ["[UNK]"], vocab_file, "WordPiece tokenization")
        self._is_suffix = tf.constant([token.startswith("##") for token in self.vocab])
        self._piece_chars = tf.constant([len(token.removeprefix("##")) for token in self.vocab])
        try:
            # UTF-8 takes up to 4 bytes a character; words over
            # max_chars_per_word characters are caught in `_collapse_long_words`.
            self._wordpiece = wordpiece_ops(self.vocab, 4 * max_chars_per_word, ops)
        except RuntimeError as e:  # raised when no vocabulary entry could match a word
            raise ValueError(
                f"Vocabulary file {str(self.vocab_file)!r} cannot make a WordPiece tokenizer ({e}); "
                "add at least one word piece besides [UNK] and bracketed tokens such as [CLS]."
            ) from None

    @classmethod
    def from_preset(cls, preset=None, lower_case=None, **kwargs):
        """The tokenizer of a released checkpoint: its `vocab.txt` and its own casing.

        Args:
            preset: str. A preset name, `hf://owner/name`, URL or checkpoint
                directory (`keras_bert.presets.checkpoint_path`); None for the
                embedded all-MiniLM-L6-v2.
            lower_case: bool or None. None: the checkpoint's casing (its
                `tokenizer_config.json`, preset record or vocabulary); a value
                that contradicts it is used, with a warning.
            **kwargs: other constructor arguments.

        Example:
        >>> tokenizer = BertTokenizer.from_preset()
        >>> tokenizer.lower_case, tokenizer(tf.constant(["Hello world"])).to_list()
        (True, [[7592, 2088]])
        """
        return cls(checkpoint_vocab_file(preset), lower_case=resolve_lower_case(preset, lower_case), **kwargs)

    @property
    def vocab_size(self):
        return len(self.vocab)

    def token_to_id(self, token):
        """The id of `token`; a `ValueError` naming it, the file and the fix when absent."""
        (token_id,) = special_token_ids(self.vocab, [token], self.vocab_file)
        return token_id

    def is_word_start(self, ids):
        """Whether each piece begins a word, i.e. is not a `##` continuation.

        Args:
            ids: int tensor or `tf.RaggedTensor` of piece ids, any shape.

        Returns:
            A bool tensor of the same shape (ragged for ragged `ids`).
        """
        return tf.ragged.map_flat_values(lambda flat: tf.logical_not(tf.gather(self._is_suffix, flat)), ids)

    def normalize(self, text):
        """`normalize_text` with this tokenizer's `lower_case`."""
        return normalize_text(text, self.lower_case)

    def call(self, text):
        return self._collapse_long_words(self._wordpiece.tokenize(self.normalize(text)))[0]

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
        ids, starts, ends = self._wordpiece.tokenize_with_offsets(normalized)
        ids, starts, ends = self._collapse_long_words(ids, starts, ends)
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

    def _collapse_long_words(self, ids, starts=None, ends=None):
        """Replaces the pieces of each word over `max_chars_per_word` by one `[UNK]`.

        A word's length is the sum of its pieces' lengths (a word that could
        not be split is a single `[UNK]` already), so no text is needed.
        `starts`/`ends`, when given, are adjusted alongside: the `[UNK]` spans
        the whole word.
        """
        flat_ids = ids.flat_values
        is_word_start = self.is_word_start(flat_ids)
        word_index = tf.cumsum(tf.cast(is_word_start, tf.int32)) - 1
        word_chars = tf.math.segment_sum(tf.gather(self._piece_chars, flat_ids), word_index)
        in_long_word = tf.gather(word_chars > self.max_chars_per_word, word_index)
        offsets = [] if starts is None else [starts.flat_values, ends.flat_values]

        def collapse():
            keep = tf.logical_or(is_word_start, tf.logical_not(in_long_word))
            values = [tf.where(in_long_word, self._unk_id, flat_ids)]
            if offsets:
                word_end = tf.gather(tf.math.segment_max(offsets[1], word_index), word_index)
                values += [offsets[0], tf.where(in_long_word, word_end, offsets[1])]
            row_lengths = tf.math.bincount(
                tf.boolean_mask(ids.value_rowids(), keep),
                minlength=ids.nrows(),
                maxlength=ids.nrows(),
                dtype=tf.int64,
            )
            return [tf.boolean_mask(v, keep) for v in values] + [row_lengths]

        def unchanged():
            return [flat_ids] + offsets + [ids.row_lengths()]

        # Almost no batch has such a word; then this is all it costs.
        *values, row_lengths = tf.cond(tf.reduce_any(in_long_word), collapse, unchanged)
        return tuple(tf.RaggedTensor.from_row_lengths(v, row_lengths, validate=False) for v in values)

    def detokenize(self, ids):
        """Ids `(batch, (pieces))` back to strings, `##` pieces joined."""
        return self._wordpiece.detokenize(ids)

    def compute_output_spec(self, text):
        return keras.KerasTensor((text.shape[0], None), dtype="int32", ragged=True)

    def get_config(self):
        config = super().get_config()
        config.update(
            vocab_file=self.vocab_file,
            lower_case=self.lower_case,
            max_chars_per_word=self.max_chars_per_word,
            ops=self.ops,
        )
        return config
