"""`BertPreprocessor`: strings -> the encoder's input dict, in-graph."""

import keras
import tensorflow as tf

from keras_bert.text.bert_tokenizer import BertTokenizer
from keras_bert.text.packing import pack_segments
from keras_bert.text.vocab import special_token_ids


@keras.saving.register_keras_serializable(package="keras_bert")
class BertPreprocessor(keras.layers.Layer):
    """Tokenizes and packs one or two segments as `[CLS] A [SEP] (B [SEP])`.

    Segment ids are 0 up to and including the first `[SEP]`, 1 after; padding
    is 0. Pairs that do not fit are trimmed longer-segment-first (the
    original `_truncate_seq_pair` rule), so the output never exceeds
    `seq_length`.

    Args:
        vocab_file: str. The WordPiece `vocab.txt`, with `[UNK]`, `[CLS]`,
            `[SEP]` and `[PAD]`.
        seq_length: int. Length of every output row; at least 3.
        lower_case: bool. True for uncased vocabularies. Defaults to `True`.
        ops: str. The tokenizer's op set, `"fast"` (the default) or
            `"tf_serving"` (see `BertTokenizer`); the ids are the same.
        **kwargs: Passed to `keras.layers.Layer`.

    Call arguments:
        inputs: a string tensor `(batch_size,)`, or a tuple/list of two.

    Returns:
        A dict of int32 `(batch_size, seq_length)` tensors: `input_word_ids`,
        `input_mask`, `input_type_ids`.

    Example:
    >>> import tempfile
    >>> vocab = tempfile.mktemp()
    >>> _ = open(vocab, "w").write("\\n".join(
    ...     ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "hello", "world"]))
    >>> packed = BertPreprocessor(vocab, seq_length=6)(
    ...     (tf.constant(["hello"]), tf.constant(["world"])))
    >>> packed["input_word_ids"].numpy().tolist(), packed["input_type_ids"].numpy().tolist()
    ([[2, 5, 3, 6, 3, 0]], [[0, 0, 0, 1, 1, 0]])
    """

    def __init__(self, vocab_file, seq_length, lower_case=True, ops="fast", **kwargs):
        super().__init__(**kwargs)
        if not isinstance(seq_length, int) or seq_length < 3:
            raise ValueError(
                f"seq_length={seq_length!r} is too small; [CLS] and [SEP] alone "
                "take 2 positions, so use at least 3 (BERT-Base allows up to 512)."
            )
        self.vocab_file = vocab_file
        self.seq_length = seq_length
        self.lower_case = lower_case
        self.ops = ops
        self.tokenizer = BertTokenizer(vocab_file, lower_case=lower_case, ops=ops, name="tokenizer")
        # [PAD] is only checked for: `pack_segments` pads with id 0.
        self._cls_id, self._sep_id, _ = special_token_ids(
            self.tokenizer.vocab, ("[CLS]", "[SEP]", "[PAD]"), vocab_file, "packing"
        )

    @classmethod
    def from_preset(cls, preset=None, seq_length=128, lower_case=None, **kwargs):
        """The preprocessor of a released checkpoint: its `vocab.txt` and casing, packing to `seq_length`.

        Args:
            preset: str. As `BertTokenizer.from_preset` takes it; None for the
                embedded all-MiniLM-L6-v2.
            seq_length: int. Length of every output row.
            lower_case: bool or None. None: the checkpoint's own casing.
            **kwargs: other constructor arguments (`ops`, `name`, ...).

        Example:
        >>> packed = BertPreprocessor.from_preset(seq_length=5)(tf.constant(["Hello world"]))
        >>> packed["input_word_ids"].numpy().tolist()
        [[101, 7592, 2088, 102, 0]]
        """
        tokenizer = BertTokenizer.from_preset(preset, lower_case)
        return cls(tokenizer.vocab_file, seq_length, lower_case=tokenizer.lower_case, **kwargs)

    def call(self, inputs):
        segments = list(inputs) if isinstance(inputs, (tuple, list)) else [inputs]
        if len(segments) not in (1, 2):
            raise ValueError(
                f"BertPreprocessor takes one or two string tensors; got {len(segments)}."
            )
        return pack_segments([self.tokenizer(s) for s in segments], self.seq_length, self._cls_id, self._sep_id)

    def get_config(self):
        config = super().get_config()
        config.update(
            vocab_file=self.vocab_file, seq_length=self.seq_length, lower_case=self.lower_case, ops=self.ops
        )
        return config
