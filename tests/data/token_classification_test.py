import pytest

from keras_bert.data import IGNORED_LABEL, ConllSentences, read_conll, token_classification_features
from keras_bert.text import BertTokenizer

LABELS = ["O", "B-LOC", "B-MISC", "B-ORG", "B-PER", "I-LOC", "I-MISC", "I-ORG", "I-PER"]


def test_labels_sit_on_first_pieces_like_hf_word_ids(shared_data, minilm_path):
    transformers = pytest.importorskip("transformers")
    sentences = read_conll(shared_data / "conll2003/valid.txt")
    sentences = ConllSentences(sentences.words[:300], sentences.tags[:300], "valid")
    features = token_classification_features(sentences, BertTokenizer(f"{minilm_path}/vocab.txt"), LABELS, 128)
    assert len(features["labels"]) == 300  # all fit in one window each
    reference = transformers.BertTokenizerFast.from_pretrained(minilm_path)
    for row, (words, tags) in enumerate(zip(sentences.words, sentences.tags)):
        encoded = reference(words, is_split_into_words=True)
        expected, previous = [], None
        for word in encoded.word_ids():
            first = word is not None and word != previous
            expected.append(LABELS.index(tags[word]) if first else IGNORED_LABEL)
            previous = word
        length = len(expected)
        assert features["input_word_ids"][row, :length].tolist() == encoded["input_ids"]
        assert features["labels"][row, :length].tolist() == expected
        assert (features["labels"][row, length:] == IGNORED_LABEL).all()


def test_long_sentences_are_split_between_words_never_dropped(minilm_path):
    words = [f"word{i}" for i in range(40)]  # "word", "##N": 2-3 pieces each
    sentences = ConllSentences([words, ["short"]], [["B-PER"] * 40, ["O"]], "mem")
    features = token_classification_features(sentences, BertTokenizer(f"{minilm_path}/vocab.txt"), LABELS, 16)
    assert features["sentence_index"].tolist()[-1] == 1 and len(features["labels"]) > 3
    labelled = [(s, w) for s, row in zip(features["sentence_index"], features["word_index"]) for w in row if w >= 0]
    assert labelled == [(0, i) for i in range(40)] + [(1, 0)]
    assert (features["input_mask"].sum(1) <= 16).all()
    ids = features["input_word_ids"]
    assert (ids[:, 0] == 101).all() and all(row[m.sum() - 1] == 102 for row, m in zip(ids, features["input_mask"]))


def test_unknown_tag_names_sentence_and_word(minilm_path):
    sentences = ConllSentences([["Paris", "rocks"]], [["B-CITY", "O"]], "train.txt")
    with pytest.raises(ValueError, match="train.txt: sentence 1, word 'Paris' has tag 'B-CITY'"):
        token_classification_features(sentences, BertTokenizer(f"{minilm_path}/vocab.txt"), LABELS, 16)
