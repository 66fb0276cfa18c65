"""Property-based fuzzing of the tokenizer and preprocessor with random Unicode, bytes, empty and huge strings."""

import functools

import numpy as np
import pytest
import tensorflow as tf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from keras_bert.text import BertPreprocessor, BertTokenizer

EXAMPLES = 150
SEQ_LENGTHS = (3, 9, 64)

# Any Unicode (surrogates excluded: they cannot be UTF-8 encoded), raw bytes
# (mostly invalid UTF-8), text from a BERT-ish alphabet, and huge repeats.
_WORDY = st.lists(st.sampled_from(list("abcdefghij ,.!?'\"-\t") + ["caf\xe9", "\u4e2d", "##", "[SEP]"])).map("".join)
STRINGS = st.one_of(
    st.text(max_size=80),
    st.binary(max_size=80),
    _WORDY,
    st.just(""),
    st.text(min_size=1, max_size=4).map(lambda s: s * 20_000),
)
BATCHES = st.lists(STRINGS, max_size=6)
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@functools.cache
def _tokenizer(vocab_file):
    return BertTokenizer(vocab_file)


@functools.cache
def _preprocessor(vocab_file, seq_length):
    return BertPreprocessor(vocab_file, seq_length)


def _tensor(batch):
    return tf.constant([s.encode("utf-8") if isinstance(s, str) else s for s in batch], tf.string)


@pytest.fixture(scope="module")
def vocab(minilm_path):
    return f"{minilm_path}/vocab.txt"


@FUZZ
@given(batch=BATCHES)
def test_tokenizer_ids_and_offsets_stay_in_range(vocab, batch):
    tokenizer = _tokenizer(vocab)
    ids, starts, ends = tokenizer.tokenize_with_offsets(_tensor(batch))
    assert ids.nrows() == len(batch)
    flat = ids.flat_values.numpy()
    assert ((flat >= 0) & (flat < tokenizer.vocab_size)).all()
    assert tokenizer(_tensor(batch)).to_list() == ids.to_list()
    text = tf.strings.unicode_transcode(_tensor(batch), "UTF-8", "UTF-8", errors="replace")
    lengths = tf.strings.length(text, unit="UTF8_CHAR").numpy()
    for row_starts, row_ends, length in zip(starts.to_list(), ends.to_list(), lengths):
        assert all(0 <= s < e <= length for s, e in zip(row_starts, row_ends))
        assert row_starts == sorted(row_starts)


@FUZZ
@given(a=BATCHES, seq_length=st.sampled_from(SEQ_LENGTHS), pair=st.booleans())
def test_packed_rows_are_well_formed(vocab, a, seq_length, pair):
    preprocessor = _preprocessor(vocab, seq_length)
    b = list(reversed(a))  # same batch size, different text
    inputs = (_tensor(a), _tensor(b)) if pair else _tensor(a)
    packed = {k: v.numpy() for k, v in preprocessor(inputs).items()}
    cls_id, sep_id = (preprocessor.tokenizer.token_to_id(t) for t in ("[CLS]", "[SEP]"))
    for name in ("input_word_ids", "input_mask", "input_type_ids"):
        assert packed[name].shape == (len(a), seq_length) and packed[name].dtype == np.int32
    for ids, mask, types in zip(packed["input_word_ids"], packed["input_mask"], packed["input_type_ids"]):
        length = int(mask.sum())
        assert (mask[:length] == 1).all() and (mask[length:] == 0).all()  # a prefix
        assert ((ids >= 0) & (ids < preprocessor.tokenizer.vocab_size)).all()
        assert ids[0] == cls_id and ids[length - 1] == sep_id and (ids[length:] == 0).all()
        separators = np.nonzero(ids[:length] == sep_id)[0]
        assert len(separators) == (2 if pair else 1)
        # Segment ids: 0 through the first [SEP], 1 after it, 0 in the padding.
        assert (types[: separators[0] + 1] == 0).all() and (types[separators[0] + 1 : length] == 1).all()
        assert (types[length:] == 0).all()
