import json
import subprocess
import sys
import zipfile

import pytest

from conftest import REPO_ROOT
from real_data import conll_slice
from keras_bert.data import read_conll


@pytest.mark.parametrize("feature_based", [False, True])
def test_trains_scores_and_writes_conll_predictions(shared_data, tmp_path, feature_based):
    seqeval = pytest.importorskip("seqeval.metrics")
    train = conll_slice(shared_data / "conll2003/train.txt", tmp_path / "train.txt", 64)
    valid = conll_slice(shared_data / "conll2003/valid.txt", tmp_path / "valid.txt", 40)
    out = tmp_path / "out"
    flags = [f"--train_file={train}", f"--eval_file={valid}", f"--output_dir={out}",
             "--num_train_epochs=1", "--max_seq_length=64"]
    if feature_based:
        # Table 7's "last four summed" row, on half the sentences.
        flags += ["--feature_based", "--learning_rate=1e-3", "--num_feature_layers=4", "--feature_combine=sum",
                  "--lstm_units=16", "--max_train_examples=32"]
    result = subprocess.run([sys.executable, "examples/run_ner.py", *flags],
                            cwd=REPO_ROOT, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    results = json.loads((out / "eval_results.json").read_text())
    assert set(results) == {"precision", "recall", "f1"}
    assert f"{32 if feature_based else len(read_conll(train))} training sentences" in result.stdout
    if feature_based:
        config = json.loads(zipfile.ZipFile(out / "tagger.keras").read("config.json"))["config"]
        assert (config["combine"], config["num_feature_layers"], config["lstm_units"]) == ("sum", 4, 16)
    # The predictions file is CoNLL: scoring it with seqeval gives the reported F1.
    gold = read_conll(valid)
    lines = [block.splitlines() for block in (out / "eval_predictions.txt").read_text().split("\n\n") if block.strip()]
    assert [[line.split()[0] for line in block] for block in lines] == gold.words
    assert [[line.split()[1] for line in block] for block in lines] == gold.tags
    predicted = [[line.split()[2] for line in block] for block in lines]
    assert results["f1"] == pytest.approx(seqeval.f1_score(gold.tags, predicted))
    if not feature_based:  # the output directory exports as a raw-text tagger
        export = subprocess.run([sys.executable, "examples/export_saved_model.py", f"--model_dir={out}",
                                 f"--export_dir={tmp_path}/export"], cwd=REPO_ROOT, capture_output=True, text=True,
                                timeout=600)
        assert export.returncode == 0, export.stderr[-3000:]
        assert "Exported the ner model" in export.stdout and (tmp_path / "export/saved_model.pb").exists()


def test_missing_file_is_named(tmp_path):
    result = subprocess.run(
        [sys.executable, "examples/run_ner.py", f"--train_file={tmp_path}/nope.txt", f"--eval_file={tmp_path}/x.txt"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode != 0 and "No CoNLL file at" in result.stderr and "Traceback" not in result.stderr


def test_keeps_the_best_epoch_and_rescores_it_without_training(shared_data, tmp_path):
    train = conll_slice(shared_data / "conll2003/train.txt", tmp_path / "train.txt", 48)
    valid = conll_slice(shared_data / "conll2003/valid.txt", tmp_path / "valid.txt", 24)
    out = tmp_path / "out"
    common = [f"--eval_file={valid}", f"--output_dir={out}", "--max_seq_length=64"]
    result = subprocess.run([sys.executable, "examples/run_ner.py", f"--train_file={train}", *common,
                             "--num_train_epochs=3", "--train_batch_size=8", "--evaluation_strategy=epoch",
                             "--learning_rate=3e-4"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    results = json.loads((out / "eval_results.json").read_text())
    # One evaluation per epoch (6 steps each) in the run's log; the model kept is the best of them.
    logged = [json.loads(line) for line in (out / "training_state/metrics.jsonl").read_text().splitlines()]
    dev_f1 = {int(line["step"]): line["eval_f1"] for line in logged}
    assert sorted(dev_f1) == [6, 12, 18] and max(dev_f1.values()) > 0
    best_step = max(dev_f1, key=lambda step: (dev_f1[step], -step))
    assert results["step"] == best_step and results["epoch"] == best_step / 6
    assert results["f1"] == pytest.approx(dev_f1[best_step], abs=1e-6)
    # --nodo_train scores the saved model: the same numbers.
    again = subprocess.run([sys.executable, "examples/run_ner.py", "--nodo_train", *common],
                           cwd=REPO_ROOT, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr[-3000:]
    rescored = json.loads((out / "eval_results.json").read_text())
    assert {k: rescored[k] for k in ("precision", "recall", "f1")} == pytest.approx(
        {k: results[k] for k in ("precision", "recall", "f1")}, abs=1e-6)


@pytest.mark.parametrize("flags, message", [
    (["--train_file=x.txt", "--eval_file=y.txt", "--test_file=z.txt"], "--test_file is used with --do_predict"),
    (["--train_file=x.txt"], "--do_eval needs --eval_file"),
    (["--nodo_train", "--nodo_eval"], "nothing to do"),
    (["--train_file=x.txt", "--eval_file=y.txt", "--evaluation_strategy=steps"],
     "--evaluation_strategy=steps needs --eval_steps"),
    (["--train_file=x.txt", "--eval_file=y.txt", "--early_stopping_patience=2"],
     "--early_stopping_patience needs --evaluation_strategy"),
])
def test_run_flags_are_checked_before_any_work(tmp_path, flags, message):
    result = subprocess.run([sys.executable, "examples/run_ner.py", f"--output_dir={tmp_path}", *flags],
                            cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode != 0 and message in result.stderr and "Traceback" not in result.stderr
