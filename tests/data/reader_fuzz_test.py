"""Property-based fuzzing of the file readers: every input either parses or raises our clear error.

A clear error is a `ValueError` (or `FileNotFoundError`) whose message names the file; any other
exception, or a bare message (a codec or JSON error without the file), fails.
"""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from keras_bert.data import check_records, read_conll, read_glue_tsv, read_squad
from keras_bert.data.csv_task import read_labelled_csv
from keras_bert.data.pretraining_data import PretrainingInstance
from keras_bert.data.pretraining_records import write_instances

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

# Valid files, mutated: bytes flipped, inserted, deleted or cut, and random bytes outright.
_GLUE = b"sentence\tlabel\na fine film\t1\ndull\t0\n"
_MRPC = ("\ufeffQuality\t#1 ID\t#2 ID\t#1 String\t#2 String\n1\t1\t2\tHe said.\tHe says.\n").encode()
_CSV = b'review,stars,extra\n"Great, really",pos,x\nBad,neg,y\n'
_CONLL = b"-DOCSTART- -X- -X- O\n\nEU NNP B-NP B-ORG\nrejects VBZ B-VP O\n\n"
_SQUAD = json.dumps({"data": [{"title": "t", "paragraphs": [{"context": "Ann wrote it.", "qas": [
    {"id": "q1", "question": "Who?", "answers": [{"text": "Ann", "answer_start": 0}]},
    {"id": "q2", "question": "What?", "answers": [], "is_impossible": True}]}]}]}).encode()


def _mutated(valid):
    edits = st.lists(st.tuples(st.sampled_from(["flip", "insert", "delete"]), st.integers(0, len(valid)),
                               st.binary(min_size=1, max_size=3)), max_size=4)

    def apply(changes):
        data = bytearray(valid)
        for kind, position, payload in changes:
            position = min(position, len(data))
            if kind == "insert":
                data[position:position] = payload
            elif kind == "delete":
                del data[position:position + len(payload)]
            elif data:
                data[min(position, len(data) - 1)] ^= payload[0] or 1
        return bytes(data)

    return st.one_of(edits.map(apply), st.integers(0, len(valid)).map(lambda n: valid[:n]), st.binary(max_size=200))


def _json_mutated():
    """SQuAD structure with values swapped for other JSON types or keys dropped."""
    value = st.one_of(st.none(), st.integers(-3, 30), st.text(max_size=5), st.just([]), st.just({}))

    def mutate(choice):
        document = json.loads(_SQUAD)
        path, replacement, drop = choice
        node = document
        for key in path[:-1]:
            node = node[key]
        if drop:
            del node[path[-1]]
        else:
            node[path[-1]] = replacement
        return json.dumps(document).encode()

    paths = st.sampled_from([
        ("data",), ("data", 0), ("data", 0, "paragraphs"), ("data", 0, "paragraphs", 0),
        ("data", 0, "paragraphs", 0, "context"), ("data", 0, "paragraphs", 0, "qas"),
        ("data", 0, "paragraphs", 0, "qas", 0), ("data", 0, "paragraphs", 0, "qas", 0, "id"),
        ("data", 0, "paragraphs", 0, "qas", 0, "question"), ("data", 0, "paragraphs", 0, "qas", 0, "answers"),
        ("data", 0, "paragraphs", 0, "qas", 0, "answers", 0),
        ("data", 0, "paragraphs", 0, "qas", 0, "answers", 0, "answer_start"),
        ("data", 0, "paragraphs", 0, "qas", 0, "answers", 0, "text"),
        ("data", 0, "paragraphs", 0, "qas", 1, "is_impossible"),
    ])
    return st.tuples(paths, value, st.booleans()).map(mutate)


def _parses_or_names_the_file(read, path, content):
    path.write_bytes(content)
    try:
        read(str(path))
    except (ValueError, FileNotFoundError) as e:
        assert path.name in str(e), f"{type(e).__name__} without the file name: {e}"


@pytest.mark.parametrize("options", [{}, {"skip_bad_rows": True}, {"labelled": False}])
@pytest.mark.parametrize("task,valid", [("sst2", _GLUE), ("mrpc", _MRPC)])
def test_glue_tsv(tmp_path, task, valid, options):
    @FUZZ
    @given(_mutated(valid))
    def check(content):
        _parses_or_names_the_file(lambda p: read_glue_tsv(task, p, **options), tmp_path / "dev.tsv", content)

    check()


def test_labelled_csv(tmp_path):
    @FUZZ
    @given(_mutated(_CSV))
    def check(content):
        _parses_or_names_the_file(lambda p: read_labelled_csv(p, "review", "stars"), tmp_path / "a.csv", content)
        _parses_or_names_the_file(lambda p: read_labelled_csv(p, "review", "stars", skip_bad_rows=True),
                                  tmp_path / "a.csv", content)

    check()


def test_conll(tmp_path):
    @FUZZ
    @given(_mutated(_CONLL))
    def check(content):
        _parses_or_names_the_file(read_conll, tmp_path / "train.txt", content)

    check()


def test_squad_json(tmp_path):
    @FUZZ
    @given(st.one_of(_mutated(_SQUAD), _json_mutated()))
    def check(content):
        _parses_or_names_the_file(read_squad, tmp_path / "dev.json", content)

    check()


def test_tfrecord(tmp_path):
    valid_path = tmp_path / "valid.tfrecord"
    write_instances([PretrainingInstance([2, 7, 3, 8, 3], [0, 0, 0, 1, 1], 0)] * 3, [str(valid_path)], 8)
    valid = valid_path.read_bytes()

    @FUZZ
    @given(_mutated(valid))
    def check(content):
        _parses_or_names_the_file(lambda p: check_records([p], max_seq_length=8, vocab_size=10),
                                  tmp_path / "instances.tfrecord", content)

    assert check_records([str(valid_path)], max_seq_length=8, vocab_size=10) == 3  # the unmutated file parses
    check()


def test_a_bad_byte_deep_in_a_streamed_file_names_its_own_line(tmp_path):
    # The streaming reader's decoder works ahead in blocks; the error must still name the byte's line.
    from keras_bert.data import open_sentence_file

    path = tmp_path / "test.tsv"
    path.write_bytes(b"sentence\n" + b"a fine film indeed\n" * 1500 + b"caf\xe9\n" + b"ok\n" * 10)
    with pytest.raises(ValueError, match=r"test.tsv, line 1502: byte 0xe9 is not UTF-8"):
        len(open_sentence_file(path))
