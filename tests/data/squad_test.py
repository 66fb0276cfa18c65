import json

import numpy as np
import pytest
import tensorflow as tf

from keras_bert import BertEncoder, BertSpanLabeler
from keras_bert.data import (
    SquadExample,
    apply_null_score_threshold,
    read_squad,
    squad_answers,
    squad_best_answers,
    squad_dataset,
    squad_features,
)
from keras_bert.metrics import normalize_answer
from keras_bert.text import BertTokenizer
from keras_bert.training import predict_logits


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


def test_windows_at_seq_128_and_stride_128_see_every_context_piece(shared_data, tokenizer):
    """The stride is longer than the window room here: windows then follow each other, none skipped."""
    examples = read_squad(shared_data / "squad/dev.json")[:200]
    features = squad_features(examples, tokenizer, seq_length=128, doc_stride=128)
    _, piece_starts, _ = tokenizer.tokenize_with_offsets(tf.constant([e.context for e in examples]))
    assert len(features["example_index"]) > 1.5 * len(examples)  # many contexts need several windows
    for index, starts in enumerate(piece_starts.to_list()):
        rows = features["example_index"] == index
        seen = features["char_start"][rows]
        assert sorted(set(seen[seen >= 0].tolist())) == sorted(set(starts))
        assert features["is_max_context"][rows].sum() == len(starts)  # one max-context window each


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


def test_null_odds_take_the_smallest_cls_score_over_windows():
    """null_odds.json as BERT's run_squad.py writes it: min over windows of [CLS] start + end, minus the best span."""
    examples = [SquadExample("q1", "What?", "Ann wrote it.", []), SquadExample("q2", "Who?", "Ann wrote it.", [])]
    # q1 in two windows, [CLS] Ann wrote [SEP] and [CLS] it . [SEP]; q2 in one with no max-context piece.
    features = {"example_index": np.array([0, 0, 1]),
                "char_start": np.array([[-1, 0, 4, -1], [-1, 10, 12, -1], [-1, 0, 4, -1]]),
                "char_end": np.array([[-1, 3, 9, -1], [-1, 12, 13, -1], [-1, 3, 9, -1]]),
                "is_max_context": np.array([[0, 1, 1, 0], [0, 1, 1, 0], [0, 0, 0, 0]], bool)}
    start_logits = np.array([[4.0, 1.0, 0.0, 0.0], [1.0, 3.0, 0.0, 0.0], [2.0, 9.0, 9.0, 0.0]])
    end_logits = np.array([[4.0, 2.0, 0.0, 0.0], [2.0, 0.0, 3.0, 0.0], [1.0, 9.0, 9.0, 0.0]])
    answers, null_odds = squad_best_answers(examples, features, start_logits, end_logits)
    # q1: null min(4 + 4, 1 + 2) = 3; best span "it." 3 + 3 = 6 (window 0's best, "Ann", is 1 + 2) -> odds -3.
    # q2: no valid span -> "" and odds against a stand-in span scoring 0, as the original's: 2 + 1 - 0 = 3.
    assert (answers, null_odds) == ({"q1": "it.", "q2": ""}, {"q1": -3.0, "q2": 3.0})
    assert all(type(odds) is float for odds in null_odds.values())  # json.dump-able
    # Odds above the threshold answer "" (not at it), as in run_squad.py and the official na_prob_thresh.
    assert apply_null_score_threshold(answers, null_odds, -3.0) == {"q1": "it.", "q2": ""}
    assert apply_null_score_threshold(answers, null_odds, -3.5) == {"q1": "", "q2": ""}
    assert squad_answers(examples, features, start_logits, end_logits, null_score_threshold=-3.5) == {"q1": "", "q2": ""}
    assert squad_answers(examples, features, start_logits, end_logits) == answers


def test_unanswerable_training_questions_are_labelled_cls_or_dropped(tokenizer):
    context = " ".join(f"word{i}" for i in range(100))
    answerable = SquadExample("a", "Which word?", context, [("word80", context.index("word80"))])
    unanswerable = SquadExample("u", "Which colour?", context, [])
    features = squad_features([answerable, unanswerable], tokenizer, seq_length=48, doc_stride=16, training=True,
                              keep_unanswerable=True)
    rows = features["example_index"] == 1
    assert rows.sum() > 3  # SQuAD v2.0: every window of an unanswerable question points both ends at [CLS]
    assert features["start_positions"][rows].tolist() == features["end_positions"][rows].tolist() == [0] * rows.sum()
    labelled = np.nonzero(~rows & (features["start_positions"] > 0))[0]
    assert len(labelled) > 0 and all(
        context[features["char_start"][r, features["start_positions"][r]] : features["char_end"][r, features["end_positions"][r]]]
        == "word80" for r in labelled)
    # SQuAD v1.1 training drops them.
    dropped = squad_features([answerable, unanswerable], tokenizer, seq_length=48, doc_stride=16, training=True)
    assert set(dropped["example_index"].tolist()) == {0}


def _windows(count, seq_length=12):
    """`count` windows of lengths 3..seq_length; window i's labels are (i, i)."""
    rng = np.random.default_rng(0)
    lengths = rng.integers(3, seq_length + 1, count)
    mask = (np.arange(seq_length) < lengths[:, None]).astype("int32")
    return {"input_word_ids": mask * rng.integers(1, 50, (count, seq_length), dtype="int32"),
            "input_mask": mask, "input_type_ids": np.zeros_like(mask),
            "start_positions": np.arange(count, dtype="int32"), "end_positions": np.arange(count, dtype="int32")}


def test_training_batches_reshuffle_every_epoch_and_never_span_two():
    features = _windows(10)
    batches = list(squad_dataset(features, 4, shuffle=True, seed=1).repeat().take(6))
    # ceil(10 / 4) = 3 batches an epoch, the last one short, as a DataLoader's.
    assert [len(y["start_logits"]) for _, y in batches] == [4, 4, 2, 4, 4, 2]
    epochs = [np.concatenate([y["start_logits"] for _, y in batches[i : i + 3]]) for i in (0, 3)]
    assert sorted(epochs[0]) == sorted(epochs[1]) == list(range(10))
    assert epochs[0].tolist() != epochs[1].tolist() != list(range(10))
    for x, y in batches:  # inputs travel with their labels, trimmed to the batch's longest row (rounded up)
        rows = y["start_logits"].numpy()
        longest = min(-(-features["input_mask"][rows].sum(1).max() // 16) * 16, features["input_mask"].shape[1])
        assert x["input_word_ids"].numpy().tolist() == features["input_word_ids"][rows, :longest].tolist()
        assert y["end_logits"].numpy().tolist() == rows.tolist()


def test_predicted_span_logits_equal_the_untrimmed_model_cut_to_each_window():
    encoder = BertEncoder(vocab_size=50, hidden_size=8, num_layers=1, num_attention_heads=2, intermediate_size=16,
                          max_sequence_length=12)
    model = BertSpanLabeler(encoder)
    features = _windows(7)
    lengths = features["input_mask"].sum(1)
    assert len(set(lengths)) > 1  # windows of different lengths share batches
    logits = predict_logits(model, squad_dataset(features, 3))
    full = model({k: features[k] for k in ("input_word_ids", "input_mask", "input_type_ids")}, training=False)
    for name in ("start_logits", "end_logits"):
        assert [window.shape for window in logits[name]] == [(length,) for length in lengths]
        for row, length in enumerate(lengths):
            np.testing.assert_allclose(logits[name][row], full[name][row, :length], atol=1e-5)


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
