import json

import numpy as np
import pytest

from keras_bert.data import SquadExample, read_squad, squad_answers, squad_features
from keras_bert.metrics import normalize_answer
from keras_bert.text import BertTokenizer


@pytest.fixture(scope="module")
def tokenizer(minilm_path):
    return BertTokenizer(f"{minilm_path}/vocab.txt")


def test_reads_the_shared_splits(shared_data):
    train, dev = read_squad(shared_data / "squad/train.json"), read_squad(shared_data / "squad/dev.json")
    assert (len(train), len(dev)) == (6715, 1408)
    assert all(e.answers for e in dev) and max(len(e.answers) for e in dev) > 1


def test_inputs_equal_hf_and_labels_cover_the_answer(shared_data, tokenizer, minilm_path):
    transformers = pytest.importorskip("transformers")
    reference = transformers.BertTokenizerFast.from_pretrained(minilm_path)
    examples = read_squad(shared_data / "squad/train.json")[:400]
    features = squad_features(examples, tokenizer, seq_length=384, training=True)
    covered = 0
    for row, index in enumerate(features["example_index"]):
        example = examples[index]
        if np.sum(features["example_index"] == index) == 1:  # one window: HF packs the same
            expected = reference(example.question, example.context)["input_ids"]
            assert features["input_word_ids"][row, : len(expected)].tolist() == expected
        start, end = features["start_positions"][row], features["end_positions"][row]
        if start:
            span = example.context[features["char_start"][row, start] : features["char_end"][row, end]]
            covered += normalize_answer(span) == normalize_answer(example.answers[0][0])
    # WordPiece boundaries match answer boundaries almost always ("1861s" would not).
    assert covered / len(examples) > 0.97


def test_long_contexts_slide_and_every_piece_has_one_max_context_window(tokenizer):
    context = " ".join(f"word{i}" for i in range(300))
    example = SquadExample("q", "Which word?", context, [("word250", context.index("word250"))])
    features = squad_features([example], tokenizer, seq_length=64, doc_stride=32, training=True)
    windows = len(features["example_index"])
    assert windows > 5
    # Each context character span is the max-context piece of exactly one window.
    spans = [(s, e) for r in range(windows) for s, e, m in
             zip(features["char_start"][r], features["char_end"][r], features["is_max_context"][r]) if m]
    assert len(spans) == len(set(spans)) and len({s for s, _ in spans}) == len(spans)
    labelled = [r for r in range(windows) if features["start_positions"][r]]
    assert labelled and all(
        context[features["char_start"][r, features["start_positions"][r]] : features["char_end"][r, features["end_positions"][r]]]
        == "word250" for r in labelled)


def test_answers_from_logits_take_the_best_valid_span(tokenizer):
    context = "The Norman conquest of England began in 1066 under William."
    example = SquadExample("q1", "When?", context, [("1066", context.index("1066"))])
    features = squad_features([example], tokenizer, seq_length=48)
    start_logits = np.full((1, 48), -10.0)
    end_logits = np.full((1, 48), -10.0)
    first = int(np.nonzero(features["char_start"][0] == context.index("1066"))[0][0])
    last = int(np.nonzero(features["char_end"][0] == context.index("1066") + 4)[0][0])  # "106" "##6"
    start_logits[0, first], end_logits[0, last] = 5.0, 5.0
    start_logits[0, 2], end_logits[0, 2] = 9.0, 9.0  # a question piece: never an answer
    assert squad_answers([example], features, start_logits, end_logits) == {"q1": "1066"}
    start_logits[0, 0], end_logits[0, 0] = 20.0, 20.0  # [CLS]: the null answer in v2.0
    assert squad_answers([example], features, start_logits, end_logits, null_score_threshold=0.0) == {"q1": ""}


def test_mismatched_answer_offsets_are_counted_and_skipped(tmp_path, caplog):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"data": [{"paragraphs": [{"context": "Paris is in France.", "qas": [
        {"id": "a", "question": "Where?", "answers": [{"text": "France", "answer_start": 3}]},
        {"id": "b", "question": "What?", "answers": [{"text": "Paris", "answer_start": 0}]}]}]}]}))
    examples = read_squad(path)
    assert [e.answers for e in examples] == [[], [("Paris", 0)]]
    assert "skipped 1 answer(s) whose answer_start does not match the context, e.g. in question a" in caplog.text
    path.write_text("[]")
    with pytest.raises(ValueError, match="is not SQuAD JSON"):
        read_squad(path)
