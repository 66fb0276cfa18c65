import numpy as np
import pytest
import tensorflow as tf

from keras_bert.text import BertPreprocessor, load_vocab
from real_data import hf_tokenizer, read_mrpc_pairs, read_sst2


def _hf_packed(reference, texts, seq_length):
    reference.enable_truncation(seq_length, strategy="longest_first")
    reference.enable_padding(pad_id=0, length=seq_length)
    encodings = reference.encode_batch(texts)
    return {
        "input_word_ids": np.array([e.ids for e in encodings]),
        "input_mask": np.array([e.attention_mask for e in encodings]),
        "input_type_ids": np.array([e.type_ids for e in encodings]),
    }


@pytest.mark.parametrize("seq_length", [16, 128])
def test_single_sentences_equal_hf(shared_data, minilm_path, seq_length):
    sentences = read_sst2(shared_data, "dev")
    packed = BertPreprocessor(f"{minilm_path}/vocab.txt", seq_length)(tf.constant(sentences))
    expected = _hf_packed(hf_tokenizer(minilm_path), sentences, seq_length)
    for name, value in expected.items():
        np.testing.assert_array_equal(packed[name], value, err_msg=name)


def _truncate_seq_pair(tokens_a, tokens_b, max_length):
    """google-research/bert's rule: pop from the longer list, from `b` on ties."""
    while len(tokens_a) + len(tokens_b) > max_length:
        (tokens_a if len(tokens_a) > len(tokens_b) else tokens_b).pop()


@pytest.mark.parametrize("seq_length", [24, 64, 128])
def test_pairs_equal_hf_pieces_under_the_original_truncation(shared_data, minilm_path, seq_length):
    """HF `tokenizers` pieces, packed with the original `_truncate_seq_pair`.

    HF's own `longest_first` strategy is a different rule: when the budget is
    odd it gives the spare token to the second segment (23 + 23 pieces into
    21 -> 10 + 11, where the original keeps 11 + 10); so the reference here
    trims HF's pieces with the original rule.
    """
    pairs = read_mrpc_pairs(shared_data, "dev")
    reference = hf_tokenizer(minilm_path)
    expected = np.zeros((3, len(pairs), seq_length), "int64")
    for row, (a, b) in enumerate(pairs):
        tokens_a, tokens_b = (e.ids[1:-1] for e in reference.encode_batch([a, b]))
        _truncate_seq_pair(tokens_a, tokens_b, seq_length - 3)
        ids = [101] + tokens_a + [102] + tokens_b + [102]
        expected[0, row, : len(ids)] = ids
        expected[1, row, : len(ids)] = 1
        expected[2, row, len(tokens_a) + 2 : len(ids)] = 1

    first, second = (tf.constant(list(column)) for column in zip(*pairs))
    packed = BertPreprocessor(f"{minilm_path}/vocab.txt", seq_length)((first, second))
    if seq_length == 24:
        assert (expected[1].sum(1) == 24).all()  # every pair was trimmed
    for name, value in zip(("input_word_ids", "input_mask", "input_type_ids"), expected):
        np.testing.assert_array_equal(packed[name], value, err_msg=name)


def test_works_in_dataset_map_and_as_a_model_layer(minilm_path):
    preprocessor = BertPreprocessor(f"{minilm_path}/vocab.txt", seq_length=8)
    dataset = tf.data.Dataset.from_tensor_slices(["a b c d e f g h i j", ""]).batch(2).map(preprocessor)
    packed = next(iter(dataset))
    assert packed["input_word_ids"].shape == (2, 8)
    assert packed["input_word_ids"][1].numpy().tolist() == [101, 102, 0, 0, 0, 0, 0, 0]


def test_too_small_seq_length(minilm_path):
    with pytest.raises(ValueError, match="seq_length=2 is too small"):
        BertPreprocessor(f"{minilm_path}/vocab.txt", seq_length=2)


def test_vocabulary_needs_the_packing_tokens_but_not_mask(tmp_path):
    path = tmp_path / "vocab.txt"
    path.write_text("[UNK]\n[SEP]\nhello\n")  # enough for the tokenizer alone
    with pytest.raises(
        ValueError,
        match=r"vocab.txt' lacks the special token\(s\) \['\[CLS\]', '\[PAD\]'\], which packing needs; add them",
    ):
        BertPreprocessor(str(path), seq_length=5)
    path.write_text("[PAD]\n[UNK]\n[CLS]\n[SEP]\nhello\n")
    packed = BertPreprocessor(str(path), seq_length=5)(tf.constant(["hello you"]))
    assert packed["input_word_ids"].numpy().tolist() == [[2, 4, 1, 3, 0]]


def test_bad_input_gives_defined_packed_rows(minilm_path):
    preprocessor = BertPreprocessor(f"{minilm_path}/vocab.txt", seq_length=16)
    texts = tf.constant(["", "   \t\n ", "word " * 20_000, b"caf\xc3 \xff\xfe ok", "\x00\x07"])
    packed = {k: v.numpy() for k, v in preprocessor((texts, texts)).items()}
    assert all(v.shape == (5, 16) for v in packed.values())
    ids, mask, types = packed["input_word_ids"], packed["input_mask"], packed["input_type_ids"]
    assert (ids[:, 0] == 101).all()
    # Empty after cleaning: [CLS] [SEP] [SEP], then padding.
    for row in (0, 1, 4):
        assert ids[row].tolist() == [101, 102, 102] + [0] * 13
        assert types[row].tolist() == [0, 0, 1] + [0] * 13
    # Huge: trimmed to fit exactly, both segments kept.
    assert mask[2].sum() == 16 and (ids[2] == 102).sum() == 2 and types[2].sum() == 7
    # Invalid UTF-8 bytes are dropped, the rest is kept.
    vocab = load_vocab(f"{minilm_path}/vocab.txt")
    assert [vocab[i] for i in ids[3][:4]] == ["[CLS]", "caf", "ok", "[SEP]"]
    assert (mask == (ids != 0)).all()


def test_empty_batch(minilm_path):
    packed = BertPreprocessor(f"{minilm_path}/vocab.txt", seq_length=8)(tf.constant([], tf.string))
    assert packed["input_word_ids"].shape == (0, 8)


def test_first_layer_of_a_model_with_the_encoder(minilm_path):
    import keras

    import keras_bert

    preprocessor = BertPreprocessor(f"{minilm_path}/vocab.txt", seq_length=32)
    encoder = keras_bert.load_encoder(minilm_path)
    text = keras.Input(shape=(), dtype="string")
    model = keras.Model(text, encoder(preprocessor(text))["pooled_output"])
    sentences = tf.constant(["a fine film", "dull"])
    np.testing.assert_allclose(model(sentences), encoder(preprocessor(sentences))["pooled_output"], atol=1e-6)


def test_saved_model_runs_with_only_tensorflow_text(minilm_path, tmp_path):
    """Packing lives in the graph: a fresh process without keras_bert runs it."""
    import subprocess
    import sys

    preprocessor = BertPreprocessor(f"{minilm_path}/vocab.txt", seq_length=24)
    module = tf.Module()
    module.preprocessor = preprocessor
    module.serve = tf.function(
        lambda a, b: preprocessor((a, b)),
        input_signature=[tf.TensorSpec([None], tf.string)] * 2,
    )
    tf.saved_model.save(module, str(tmp_path / "packer"))
    first, second = ["Ünïcode text, with accents…", ""], ["a pair", "x" * 500]
    expected = module.serve(tf.constant(first), tf.constant(second))["input_word_ids"].numpy().tolist()
    script = (
        "import sys, json, tensorflow as tf, tensorflow_text\n"
        "assert 'keras_bert' not in sys.modules\n"
        f"m = tf.saved_model.load({str(tmp_path / 'packer')!r})\n"
        f"out = m.serve(tf.constant({first!r}), tf.constant({second!r}))\n"
        "print(json.dumps(out['input_word_ids'].numpy().tolist()))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    import json

    assert json.loads(result.stdout.strip().splitlines()[-1]) == expected
