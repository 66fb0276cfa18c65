import pytest

from keras_bert.data import read_conll


def test_real_conll_2003_sizes(shared_data):
    train = read_conll(shared_data / "conll2003/train.txt")
    valid = read_conll(shared_data / "conll2003/valid.txt")
    assert (len(train), len(valid)) == (14041, 3250)
    assert train.words[0] == ["EU", "rejects", "German", "call", "to", "boycott", "British", "lamb", "."]
    assert train.tags[0] == ["B-ORG", "O", "B-MISC", "O", "O", "O", "B-MISC", "O", "O"]
    assert {t for s in train.tags for t in s} == {
        "O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "B-MISC", "I-MISC"}


def test_bad_files(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_text("EU NNP B-NP B-ORG\nrejects\n")
    with pytest.raises(ValueError, match=r"bad.txt, line 2: 'rejects' has no tag"):
        read_conll(path)
    path.write_text("-DOCSTART- -X- -X- O\n\n")
    with pytest.raises(ValueError, match="no sentences; the file is empty"):
        read_conll(path)
    with pytest.raises(FileNotFoundError):
        read_conll(tmp_path / "missing.txt")
