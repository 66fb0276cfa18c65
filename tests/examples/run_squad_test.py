import json
import subprocess
import sys

import pytest

from conftest import REPO_ROOT
from real_data import squad_v2_slice
from keras_bert.data import read_squad
from keras_bert.metrics import squad_scores, squad_v2_scores


def _subset(source, target, questions):
    data = json.loads(source.read_text(encoding="utf-8"))
    kept, total = [], 0
    for article in data["data"]:
        for paragraph in article["paragraphs"]:
            if total < questions:
                paragraph["qas"] = paragraph["qas"][: questions - total]
                total += len(paragraph["qas"])
                kept.append(paragraph)
    target.write_text(json.dumps({"version": "1.1", "data": [{"title": "t", "paragraphs": kept}]}))
    return target


def test_trains_predicts_and_scores(shared_data, tmp_path):
    train = _subset(shared_data / "squad/train.json", tmp_path / "train.json", 48)
    dev = _subset(shared_data / "squad/dev.json", tmp_path / "dev.json", 24)
    out = tmp_path / "out"
    result = subprocess.run(
        [sys.executable, "examples/run_squad.py", f"--train_file={train}", f"--predict_file={dev}",
         f"--output_dir={out}", "--max_seq_length=128", "--doc_stride=64", "--num_train_epochs=1",
         "--train_batch_size=16"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=900,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    questions = read_squad(dev)
    predictions = json.loads((out / "predictions.json").read_text())
    assert set(predictions) == {q.question_id for q in questions}
    assert all(predictions[q.question_id] in q.context for q in questions)
    results = json.loads((out / "eval_results.json").read_text())
    expected = squad_scores({q.question_id: [a for a, _ in q.answers] for q in questions}, predictions)
    assert results == pytest.approx(expected)
    assert f"exact_match = {expected['exact_match']:.2f}" in result.stdout
    export = subprocess.run([sys.executable, "examples/export_saved_model.py", f"--model_dir={out}",
                             f"--export_dir={tmp_path}/export"], cwd=REPO_ROOT, capture_output=True, text=True,
                            timeout=600)
    assert export.returncode == 0, export.stderr[-3000:]
    assert "Exported the squad model" in export.stdout and (tmp_path / "export/saved_model.pb").exists()


V2_KEYS = {"exact", "f1", "total", "HasAns_exact", "HasAns_f1", "HasAns_total", "NoAns_exact", "NoAns_f1",
           "NoAns_total", "best_exact", "best_exact_thresh", "best_f1", "best_f1_thresh"}


def test_v2_trains_on_unanswerable_questions_and_chooses_the_null_threshold_on_dev(shared_data, tmp_path):
    train = squad_v2_slice(shared_data / "squad/train.json", tmp_path / "train.json", 32)
    dev = squad_v2_slice(shared_data / "squad/dev.json", tmp_path / "dev.json", 24)
    out = tmp_path / "out"
    run = [sys.executable, "examples/run_squad.py", "--version_2_with_negative", f"--predict_file={dev}",
           f"--output_dir={out}", "--max_seq_length=96", "--doc_stride=48", "--max_query_length=24"]
    result = subprocess.run(run + [f"--train_file={train}", "--num_train_epochs=1", "--train_batch_size=16"],
                            cwd=REPO_ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    questions = read_squad(dev)
    assert sum(not q.answers for q in questions) == 12
    predictions = json.loads((out / "predictions.json").read_text())
    null_odds = json.loads((out / "null_odds.json").read_text())
    ids = [q.question_id for q in questions]
    assert list(predictions) == list(null_odds) == ids
    assert all(isinstance(odds, float) for odds in null_odds.values())
    assert all(predictions[q.question_id] in q.context for q in questions)

    results = json.loads((out / "eval_results.json").read_text())
    threshold = results.pop("null_score_diff_threshold")
    assert set(results) == V2_KEYS
    references = {q.question_id: [a for a, _ in q.answers] for q in questions}
    assert results == pytest.approx(squad_v2_scores(references, predictions, null_odds))
    # The threshold is best_f1_thresh of the best non-empty answers; thresholding them there leaves the search's
    # prefix up to it unchanged and every later step +0, so the written predictions give it back too.
    assert results["best_f1_thresh"] == threshold
    assert all(predictions[q] == "" for q in ids if null_odds[q] > threshold)
    assert f"Chose --null_score_diff_threshold={threshold:.6g}" in result.stdout
    assert json.loads((out / "serving.json").read_text())["null_score_threshold"] == threshold

    # --nodo_train answers with the saved model and, without the flag, serving.json's threshold.
    again = subprocess.run(run + ["--nodo_train", "--nodo_eval", "--do_predict"], cwd=REPO_ROOT,
                           capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr[-3000:]
    assert json.loads((out / "predictions.json").read_text()) == predictions
    assert json.loads((out / "null_odds.json").read_text()) == pytest.approx(null_odds, abs=1e-4)


@pytest.mark.parametrize("flags, message", [
    (["--train_file={tmp}/train.json", "--predict_file={tmp}/dev.json"], "No SQuAD file at"),
    (["--predict_file={tmp}/dev.json"], "--do_train needs --train_file (or pass --nodo_train)"),
    (["--train_file={tmp}/dev.json"], "--do_eval and --do_predict need --predict_file"),
    (["--nodo_train", "--predict_file={tmp}/dev.json", "--output_dir={tmp}"], "No {tmp}/serving.json"),
])
def test_errors_name_the_fix(tmp_path, flags, message):
    qa = {"id": "q1", "question": "Who wrote it?", "answers": [{"text": "Ann", "answer_start": 0}]}
    (tmp_path / "dev.json").write_text(json.dumps({"data": [{"paragraphs": [{"context": "Ann wrote it.", "qas": [qa]}]}]}))
    result = subprocess.run(
        [sys.executable, "examples/run_squad.py"] + [flag.format(tmp=tmp_path) for flag in flags],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode != 0 and message.format(tmp=tmp_path) in result.stderr, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
