"""examples/predict.py: a fine-tuned model's file predictions reproduce the scores its script's evaluation printed.

Each fine-tuning script runs once (module-scoped fixtures, a few steps on small slices of the shared
data); predict.py then predicts the same dev rows from files, through --model_dir and --saved_model.
"""

import csv
import json
import subprocess
import sys

import numpy as np
import pytest

from conftest import REPO_ROOT
from real_data import conll_slice, squad_v2_slice
from keras_bert.data import read_conll, read_glue_tsv, read_squad
from keras_bert.metrics import conll_scores, squad_v2_scores

BUNDLED_SST2 = REPO_ROOT / "examples/data/sst2"


def _run(script, *flags):
    return subprocess.run([sys.executable, f"examples/{script}", *map(str, flags)], cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=600)


def _succeeds(script, *flags):
    result = _run(script, *flags)
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def _jsonl(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def sst2_run(tmp_path_factory):
    """run_classifier.py on 48 rows of the bundled SST-2 slice, scored on 40 dev rows, then predict.py on those
    rows: `(model_dir, dev.tsv, predict.py's result, its JSONL rows)`."""
    folder = tmp_path_factory.mktemp("sst2")
    data = folder / "data"
    data.mkdir()
    for name, rows in (("train.tsv", 48), ("dev.tsv", 40)):
        lines = (BUNDLED_SST2 / name).read_text(encoding="utf-8").splitlines()
        (data / name).write_text("\n".join(lines[: rows + 1]) + "\n", encoding="utf-8")
    _succeeds("run_classifier.py", f"--data_dir={data}", f"--output_dir={folder}/model", "--num_train_epochs=1",
              "--train_batch_size=16", "--learning_rate=1e-4", "--max_seq_length=32")
    result = _succeeds("predict.py", f"--model_dir={folder}/model", f"--input_file={data}/dev.tsv",
                       f"--output_file={folder}/dev.jsonl", "--batch_size=16", "--chunk_size=24")
    return folder / "model", data / "dev.tsv", result, _jsonl(folder / "dev.jsonl")


def test_classifier_predictions_reproduce_the_dev_accuracy_in_each_format(sst2_run, tmp_path):
    model_dir, dev_file, result, rows = sst2_run
    dev = read_glue_tsv("sst2", dev_file)
    gold = [dev.label_names[label] for label in dev.labels]
    assert len(rows) == len(dev) and all(set(row) == {"label", "probabilities"} for row in rows)
    labels = [row["label"] for row in rows]
    accuracy = json.loads((model_dir / "eval_results.json").read_text())["accuracy"]
    assert np.mean(np.array(labels) == np.array(gold)) == pytest.approx(accuracy)
    probabilities = np.array([[row["probabilities"][name] for name in ("0", "1")] for row in rows])
    assert probabilities.sum(-1) == pytest.approx(1.0, abs=1e-5)
    assert labels == [("0", "1")[i] for i in probabilities.argmax(-1)]
    assert f"[####################] {len(dev)}/{len(dev)} rows (100%)" in result.stderr  # the progress line
    assert f"{len(dev)} rows (columns 'sentence')" in result.stdout

    # The same rows as CSV (quoted commas, another column name) -> CSV columns.
    with open(tmp_path / "dev.csv", "w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows([["id", "review"]] + [[i, text] for i, text in enumerate(dev.text_a)])
    _succeeds("predict.py", f"--model_dir={model_dir}", f"--input_file={tmp_path}/dev.csv",
              "--text_a_column=review", f"--output_file={tmp_path}/dev_predicted.csv")
    with open(tmp_path / "dev_predicted.csv", newline="", encoding="utf-8") as f:
        table = list(csv.reader(f))
    assert table[0] == ["label", "probability_0", "probability_1"]
    assert [row[0] for row in table[1:]] == labels
    assert np.array(table[1:])[:, 1:].astype(float) == pytest.approx(probabilities, abs=1e-5)


def test_saved_model_and_onnx_files_serve_the_same_labels(sst2_run, tmp_path):
    model_dir, dev_file, _, rows = sst2_run
    result = _succeeds("export_saved_model.py", f"--model_dir={model_dir}", f"--export_dir={tmp_path}/export",
                       f"--onnx_file={tmp_path}/sst2.onnx", "--onnx_int8", "--noonnx_skip_padding")
    assert (f"ONNX: {tmp_path}/sst2.onnx and {tmp_path}/sst2.int8.onnx (int8), every position computed"
            in result.stdout)
    dev = read_glue_tsv("sst2", dev_file)
    (tmp_path / "dev.jsonl").write_text("".join(json.dumps({"sentence": text}) + "\n" for text in dev.text_a),
                                        encoding="utf-8")
    _succeeds("predict.py", f"--saved_model={tmp_path}/export", f"--input_file={tmp_path}/dev.jsonl",
              f"--output_file={tmp_path}/served.tsv")
    served = [line.split("\t") for line in (tmp_path / "served.tsv").read_text().splitlines()]
    assert served[0] == ["label", "probability_0", "probability_1"]
    assert [row[0] for row in served[1:]] == [row["label"] for row in rows]
    probabilities = np.array([[row["probabilities"][name] for name in ("0", "1")] for row in rows])
    assert np.array(served[1:])[:, 1:].astype(float) == pytest.approx(probabilities, abs=1e-4)

    # ONNX Runtime on the ids BertPreprocessor gives (the script's sequence length, 32).
    import onnxruntime
    from keras_bert.text import BertPreprocessor

    inputs = {k: v.numpy() for k, v in BertPreprocessor(str(model_dir / "vocab.txt"), 32)(np.array(dev.text_a)).items()}
    onnx_probabilities = {
        name: onnxruntime.InferenceSession(str(tmp_path / name)).run(["probabilities"], inputs)[0]
        for name in ("sst2.onnx", "sst2.int8.onnx")
    }
    assert onnx_probabilities["sst2.onnx"] == pytest.approx(probabilities, abs=1e-4)
    assert np.abs(onnx_probabilities["sst2.int8.onnx"] - probabilities).max() < 0.2


@pytest.fixture(scope="module")
def ner_run(tmp_path_factory, shared_data):
    """`(model_dir, valid.txt)`: run_ner.py on 64 CoNLL-2003 training sentences, scored on 40 dev sentences."""
    folder = tmp_path_factory.mktemp("ner")
    train = conll_slice(shared_data / "conll2003/train.txt", folder / "train.txt", 64)
    valid = conll_slice(shared_data / "conll2003/valid.txt", folder / "valid.txt", 40)
    _succeeds("run_ner.py", f"--train_file={train}", f"--eval_file={valid}", f"--output_dir={folder}/model",
              "--num_train_epochs=1", "--max_seq_length=64")
    return folder / "model", valid


def test_ner_predictions_reproduce_the_dev_f1_and_index_raw_lines(ner_run, tmp_path):
    model_dir, valid = ner_run
    gold = read_conll(valid)
    _succeeds("predict.py", f"--model_dir={model_dir}", f"--input_file={valid}", f"--output_file={tmp_path}/tags.conll")
    blocks = [block.splitlines() for block in (tmp_path / "tags.conll").read_text().split("\n\n") if block.strip()]
    assert [[line.split()[0] for line in block] for block in blocks] == gold.words
    predicted = [[line.split()[1] for line in block] for block in blocks]
    f1 = json.loads((model_dir / "eval_results.json").read_text())["f1"]
    assert conll_scores(gold.tags, predicted)["f1"] == pytest.approx(f1)

    # The same sentences as raw text lines, spaced unevenly, with an empty line -> JSONL with character offsets.
    lines = ["  " + "   ".join(words) + " " for words in gold.words[:10]]
    lines.insert(3, "")
    (tmp_path / "news.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    _succeeds("predict.py", f"--model_dir={model_dir}", f"--input_file={tmp_path}/news.txt",
              f"--output_file={tmp_path}/news.jsonl")
    records = _jsonl(tmp_path / "news.jsonl")
    assert [record["text"] for record in records] == lines
    for record in records:
        assert [record["text"][t["start"] : t["end"]] for t in record["tokens"]] == record["text"].split()
        assert [t["word"] for t in record["tokens"]] == record["text"].split()
    records.pop(3)
    assert [[t["tag"] for t in record["tokens"]] for record in records] == predicted[:10]


@pytest.fixture(scope="module")
def squad_run(tmp_path_factory, shared_data):
    """`(model_dir, dev.json)`: run_squad.py --version_2_with_negative on 16 questions, answering 16 dev ones."""
    folder = tmp_path_factory.mktemp("squad")
    train = squad_v2_slice(shared_data / "squad/train.json", folder / "train.json", 16)
    dev = squad_v2_slice(shared_data / "squad/dev.json", folder / "dev.json", 16)
    _succeeds("run_squad.py", "--version_2_with_negative", f"--train_file={train}", f"--predict_file={dev}",
              f"--output_dir={folder}/model", "--max_seq_length=96", "--doc_stride=48", "--max_query_length=24",
              "--num_train_epochs=1", "--train_batch_size=16")
    return folder / "model", dev


def test_squad_predictions_and_null_odds_are_run_squads(squad_run, tmp_path):
    model_dir, dev = squad_run
    _succeeds("predict.py", f"--model_dir={model_dir}", f"--input_file={dev}",
              f"--output_file={tmp_path}/out/predictions.json")
    predictions = json.loads((tmp_path / "out/predictions.json").read_text())
    null_odds = json.loads((tmp_path / "out/null_odds.json").read_text())
    assert predictions == json.loads((model_dir / "predictions.json").read_text())
    assert null_odds == pytest.approx(json.loads((model_dir / "null_odds.json").read_text()), abs=1e-5)
    references = {q.question_id: [text for text, _ in q.answers] for q in read_squad(dev)}
    results = json.loads((model_dir / "eval_results.json").read_text())
    rescored = squad_v2_scores(references, predictions, null_odds)
    assert {k: rescored[k] for k in ("exact", "f1", "best_f1")} == pytest.approx(
        {k: results[k] for k in ("exact", "f1", "best_f1")})


def test_bad_input_is_named_without_a_traceback(sst2_run, tmp_path):
    """(An unknown extension is refused by `check_prediction_files`, whose doctest shows the message.)"""
    model_dir, dev_file, _, _ = sst2_run
    (tmp_path / "reviews.csv").write_text("id,review\n1,great\n")
    cases = [
        ([f"--model_dir={tmp_path}", f"--input_file={dev_file}", f"--output_file={tmp_path}/o.jsonl"],
         f"No {tmp_path}/serving.json: --model_dir={tmp_path} must be the --output_dir of a fine-tuning script"),
        ([f"--model_dir={model_dir}", f"--input_file={tmp_path}/nope.tsv", f"--output_file={tmp_path}/o.jsonl"],
         f"--input_file={tmp_path}/nope.tsv: no such file."),
        ([f"--model_dir={model_dir}", f"--input_file={tmp_path}/reviews.csv", f"--output_file={tmp_path}/o.tsv"],
         f"{tmp_path}/reviews.csv: no column(s) ['sentence']; its header has ['id', 'review']."),
    ]
    for flags, message in cases:
        result = _run("predict.py", *flags)
        assert result.returncode != 0 and "Traceback" not in result.stderr, result.stderr[-2000:]
        assert f"predict.py: {message}" in result.stderr
    assert not (tmp_path / "o.tsv").exists() and not (tmp_path / "o.tsv.partial").exists()
