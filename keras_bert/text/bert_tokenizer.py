"""`BertTokenizer`: in-graph WordPiece tokenization on tensorflow-text."""

import keras
import tensorflow as tf
import tensorflow_text as tf_text

from keras_bert.text.vocab import load_vocab


@keras.saving.register_keras_serializable(package="keras_bert")
class BertTokenizer(keras.layers.Layer):
    """Splits strings into WordPiece ids, as the original BERT tokenizer does.

    Runs inside the graph (tf.data, `tf.function`, SavedModel) on
    tensorflow-text's `FastBertTokenizer`. For uncased vocabularies the text
    is first lower-cased, NFD-decomposed and stripped of accents (combining
    marks), the original BasicTokenizer's order; tensorflow-text's own
    lower-casing uses NFKC case folding, which would turn `…` into `...`.

    Args:
        vocab_file: str. The WordPiece `vocab.txt`.
        lower_case: bool. True for uncased vocabularies. Defaults to `True`.
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
    >>> BertTokenizer(vocab)(tf.constant(["Unaffable."])).to_list()
    [[5, 6, 7, 8]]
    """

    def __init__(self, vocab_file, lower_case=True, **kwargs):
        super().__init__(**kwargs)
        self.vocab_file = vocab_file
        self.lower_case = lower_case
        self.vocab = load_vocab(vocab_file)
        self._tokenizer = tf_text.FastBertTokenizer(
            vocab=self.vocab,
            token_out_type=tf.int32,
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
        """Lower-case, NFD, strip combining marks (uncased only)."""
        if not self.lower_case:
            return text
        text = tf.strings.lower(text, encoding="utf-8")
        text = tf_text.normalize_utf8(text, "NFD")
        return tf.strings.regex_replace(text, r"\p{Mn}", "")

    def call(self, text):
        return self._tokenizer.tokenize(self.normalize(text))

    def detokenize(self, ids):
        """Ids `(batch, (pieces))` back to strings, `##` pieces joined."""
        return self._tokenizer.detokenize(ids)

    def compute_output_spec(self, text):
        return keras.KerasTensor((text.shape[0], None), dtype="int32", ragged=True)

    def get_config(self):
        config = super().get_config()
        config.update(vocab_file=self.vocab_file, lower_case=self.lower_case)
        return config
