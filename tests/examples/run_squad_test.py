import json
import subprocess
import sys

import pytest

from conftest import REPO_ROOT
from keras_bert.data import read_squad
from keras_bert.metrics import squad_scores


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


def test_missing_file_is_named(tmp_path):
    result = subprocess.run(
        [sys.executable, "examples/run_squad.py", f"--predict_file={tmp_path}/dev.json"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode != 0 and "No SQuAD file at" in result.stderr and "Traceback" not in result.stderr
