import numpy as np
import pytest
import tensorflow as tf

from keras_bert.text import BertTokenizer, load_vocab
from text_parity_fixtures import hf_tokenizer, read_sst2, read_wiki_paragraphs


def _assert_same_ids(tokenizer, reference, texts):
    ours = tokenizer(tf.constant(texts)).to_list()
    theirs = [encoding.ids[1:-1] for encoding in reference.encode_batch(texts)]  # drop [CLS] [SEP]
    different = [i for i in range(len(texts)) if ours[i] != theirs[i]]
    assert not different, f"{len(different)} of {len(texts)} differ, first: {texts[different[0]]!r}"


def test_ids_equal_hf_tokenizers_on_all_sst2_train(shared_data, minilm_path):
    tokenizer = BertTokenizer(f"{minilm_path}/vocab.txt")
    _assert_same_ids(tokenizer, hf_tokenizer(minilm_path), read_sst2(shared_data, "train"))


def test_ids_equal_hf_tokenizers_on_10k_wikipedia_paragraphs(shared_data, minilm_path):
    # Wikipedia has "…", "½", accents and non-Latin scripts, where NFKC case
    # folding (tensorflow-text's own lower-casing) would differ.
    paragraphs = read_wiki_paragraphs(shared_data, 10_000)
    assert len(paragraphs) == 10_000
    _assert_same_ids(BertTokenizer(f"{minilm_path}/vocab.txt"), hf_tokenizer(minilm_path), paragraphs)


def test_runs_in_tf_data_and_detokenizes(minilm_path):
    tokenizer = BertTokenizer(f"{minilm_path}/vocab.txt")
    dataset = tf.data.Dataset.from_tensor_slices(["Hello, Wörld!", "unaffable"]).batch(2).map(tokenizer)
    ids = next(iter(dataset))
    vocab = load_vocab(f"{minilm_path}/vocab.txt")
    assert [vocab[i] for i in ids[0].numpy()] == ["hello", ",", "world", "!"]
    assert tokenizer.detokenize(ids).numpy().tolist() == [b"hello , world !", b"unaffable"]


def test_missing_and_bad_vocab_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist; pass the vocab.txt"):
        BertTokenizer(str(tmp_path / "vocab.txt"))
    bad = tmp_path / "latin1.txt"
    bad.write_bytes(b"[PAD]\n[UNK]\ncaf\xe9\n")
    with pytest.raises(ValueError, match="is not UTF-8 \\(bad byte at line 3\\)"):
        BertTokenizer(str(bad))
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    with pytest.raises(ValueError, match="is empty"):
        BertTokenizer(str(empty))
    partial = tmp_path / "partial.txt"
    partial.write_text("[PAD]\n[UNK]\nhello\n")
    with pytest.raises(ValueError, match=r"lacks the special token\(s\) \['\[CLS\]', '\[SEP\]', '\[MASK\]'\]"):
        BertTokenizer(str(partial))
