"""`BertPreprocessor`: strings -> the encoder's input dict, in-graph."""

import keras
import tensorflow as tf
import tensorflow_text as tf_text

from keras_bert.text.bert_tokenizer import BertTokenizer
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

    def __init__(self, vocab_file, seq_length, lower_case=True, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(seq_length, int) or seq_length < 3:
            raise ValueError(
                f"seq_length={seq_length!r} is too small; [CLS] and [SEP] alone "
                "take 2 positions, so use at least 3 (BERT-Base allows up to 512)."
            )
        self.vocab_file = vocab_file
        self.seq_length = seq_length
        self.lower_case = lower_case
        self.tokenizer = BertTokenizer(vocab_file, lower_case=lower_case, name="tokenizer")
        # [PAD] is only checked for: `pack_segments` pads with id 0.
        self._cls_id, self._sep_id, _ = special_token_ids(
            self.tokenizer.vocab, ("[CLS]", "[SEP]", "[PAD]"), vocab_file, "packing"
        )

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
            vocab_file=self.vocab_file, seq_length=self.seq_length, lower_case=self.lower_case
        )
        return config


def pack_segments(segments, seq_length, cls_id, sep_id):
    """`[CLS] A [SEP] (B [SEP])` from WordPiece ids: trimmed to fit, then padded.

    Pairs are trimmed longer-segment-first (tensorflow-text's
    `RoundRobinTrimmer`, the original's `_truncate_seq_pair` rule).

    Args:
        segments: a list of one or two int `tf.RaggedTensor`s
            `(batch_size, (pieces))`; `(batch_size, (words), (pieces))` is
            merged to that first.
        seq_length: int, or a scalar int tensor (the shape is then dynamic).
        cls_id, sep_id: ids of `[CLS]` and `[SEP]`.

    Returns:
        The encoder's input dict of int32 `(batch_size, seq_length)` tensors.

    Example:
    >>> ids = pack_segments([tf.ragged.constant([[5, 6], [7]])], 5, cls_id=2, sep_id=3)
    >>> ids["input_word_ids"].numpy().tolist(), ids["input_mask"].numpy().tolist()
    ([[2, 5, 6, 3, 0], [2, 7, 3, 0, 0]], [[1, 1, 1, 1, 0], [1, 1, 1, 0, 0]])
    """
    segments = [s.merge_dims(1, 2) if s.shape.rank == 3 else s for s in segments]
    # One [CLS], then a [SEP] after each segment.
    segments = tf_text.RoundRobinTrimmer(max_seq_length=seq_length - 1 - len(segments)).trim(segments)
    # Laid out with dense gathers rather than tf_text.combine_segments, whose
    # ragged concatenation has no TFLite kernel: this way the same packing
    # serves training, SavedModels and TFLite (its result is tested equal).
    positions = tf.range(seq_length, dtype=tf.int32)[tf.newaxis]  # (1, seq_length)
    word_ids = tf.where(positions == 0, cls_id, 0)
    type_ids = tf.zeros_like(word_ids)
    end = tf.ones_like(segments[0].row_lengths(), tf.int32)[:, tf.newaxis]  # after [CLS]
    for type_id, segment in enumerate(segments):
        start, end = end, end + tf.cast(segment.row_lengths(), tf.int32)[:, tf.newaxis]
        dense = tf.cast(segment.to_tensor(0), tf.int32)
        inside = (positions >= start) & (positions < end)
        index = tf.clip_by_value(positions - start, 0, tf.maximum(tf.shape(dense)[1] - 1, 0))
        pieces = tf.gather(tf.pad(dense, [[0, 0], [0, 1]]), index, batch_dims=1)
        word_ids = tf.where(inside, pieces, tf.where(positions == end, sep_id, word_ids))
        type_ids = tf.where(inside | (positions == end), type_id, type_ids)
        end += 1  # the [SEP]
    return {
        "input_word_ids": word_ids,
        "input_mask": tf.cast(positions < end, tf.int32),
        "input_type_ids": type_ids,
    }
