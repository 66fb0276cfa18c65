import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time

import keras
import numpy as np
import pytest
import scipy.stats

from conftest import REPO_ROOT
from keras_bert.data import classification_dataset, read_glue_split, read_glue_tsv
from keras_bert.text import BertPreprocessor

BUNDLED = REPO_ROOT / "examples/data/sst2"


def _run(*flags):
    return subprocess.run(
        [sys.executable, "examples/run_classifier.py", *flags],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=900,
    )


def test_bundled_slice_is_real_sst2(shared_data):
    full = read_glue_tsv("sst2", shared_data / "glue/sst2/train.tsv")
    rows = set(zip(full.text_a, full.labels))
    bundled = read_glue_tsv("sst2", BUNDLED / "train.tsv")
    assert len(bundled) == 4000 and all(row in rows for row in zip(bundled.text_a, bundled.labels))
    assert (BUNDLED / "dev.tsv").read_bytes() == (shared_data / "glue/sst2/dev.tsv").read_bytes()


def _small_sst2(tmp_path):
    """97 training and 80 dev rows of the bundled slice."""
    data = tmp_path / "data"
    data.mkdir()
    for name, rows in (("train.tsv", 97), ("dev.tsv", 80)):
        lines = (BUNDLED / name).read_text(encoding="utf-8").splitlines()
        (data / name).write_text("\n".join(lines[: rows + 1]) + "\n", encoding="utf-8")
    return data


def _recomputed_accuracy(model_file, data, vocab_file):
    classifier = keras.saving.load_model(model_file)
    dev = read_glue_tsv("sst2", data / "dev.tsv")
    preprocessor = BertPreprocessor(vocab_file, 32)
    predictions = np.concatenate(
        [classifier(x).numpy().argmax(-1) for x, _ in classification_dataset(dev, preprocessor, 64)]
    )
    return np.mean(predictions == np.array(dev.labels))


def test_fine_tunes_evaluates_and_saves(tmp_path, minilm_path):
    data, out = _small_sst2(tmp_path), tmp_path / "out"
    result = _run(f"--data_dir={data}", f"--output_dir={out}", "--num_train_epochs=1",
                  "--train_batch_size=16", "--max_seq_length=32")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Fine-tuning on 97 sst2 examples for 7 steps" in result.stdout
    assert "DefaultDistributionStrategy with 1 replica(s), dtype policy float32." in result.stdout
    assert "Confusion matrix (rows: true label, columns: predicted):" in result.stdout
    results = json.loads((out / "eval_results.json").read_text())
    assert set(results) == {"accuracy"}
    # The saved model reproduces the reported accuracy, recomputed here.
    assert results["accuracy"] == pytest.approx(_recomputed_accuracy(out / "classifier.keras", data,
                                                                     f"{minilm_path}/vocab.txt"))


def test_mirrored_over_two_cpus_in_mixed_bfloat16(tmp_path, minilm_path):
    data, out = _small_sst2(tmp_path), tmp_path / "out"
    result = _run(f"--data_dir={data}", f"--output_dir={out}", "--num_train_epochs=1", "--train_batch_size=16",
                  "--max_seq_length=32", "--distribution_strategy=mirrored", "--num_cpu_devices=2",
                  "--mixed_precision=bfloat16")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "MirroredStrategy with 2 replica(s), dtype policy mixed_bfloat16." in result.stdout
    results = json.loads((out / "eval_results.json").read_text())
    # A saved model follows the dtype policy it is loaded under; the head stays float32.
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        classifier = keras.saving.load_model(out / "classifier.keras")
        block = classifier.encoder.get_layer("transformer_layer_0")
        assert (block.compute_dtype, block.variable_dtype) == ("bfloat16", "float32")
        assert classifier.get_layer("logits").compute_dtype == "float32"
        accuracy = _recomputed_accuracy(out / "classifier.keras", data, f"{minilm_path}/vocab.txt")
    finally:
        keras.mixed_precision.set_global_policy("float32")
    assert results["accuracy"] == pytest.approx(accuracy)


def test_errors_name_the_problem(tmp_path):
    result = _run("--task=mrpc", f"--output_dir={tmp_path}")
    assert result.returncode != 0 and "--data_dir is required for --task=mrpc" in result.stderr
    (tmp_path / "train.tsv").write_text("sentence\tlabel\ngood\t1\nbad\t7\n")
    result = _run(f"--data_dir={tmp_path}", f"--output_dir={tmp_path}/out")
    assert result.returncode != 0 and "train.tsv, line 3: label '7' is not one of ['0', '1']; fix the row, or pass " \
        "--skip_bad_rows=True to skip such rows." in result.stderr
    result = _run(f"--data_dir={BUNDLED}", "--max_seq_length=1000", f"--output_dir={tmp_path}/out")
    assert "--max_seq_length=1000 exceeds the checkpoint's max_position_embeddings=512" in result.stderr
    assert "Traceback" not in result.stderr
    result = _run("--nodo_train", "--do_predict", f"--data_dir={BUNDLED}", f"--output_dir={tmp_path}/empty")
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert f"--output_dir={tmp_path}/empty must be the --output_dir of a fine-tuning script" in result.stderr


def test_tfds_source_through_the_real_script(tmp_path):
    """`--tfds_name` runs the script's real tensorflow-datasets path on TFDS mock data."""
    pytest.importorskip("tensorflow_datasets")
    script = (
        "import runpy, sys\n"
        "import tensorflow_datasets as tfds\n"
        "sys.path.insert(0, 'examples')  # as `python examples/run_classifier.py` would\n"
        f"sys.argv = ['run_classifier.py', '--tfds_name=glue/cola', '--output_dir={tmp_path}',\n"
        "            '--num_train_epochs=1', '--max_seq_length=16', '--train_batch_size=8']\n"
        "with tfds.testing.mock_data(num_examples=16):\n"
        "    runpy.run_path('examples/run_classifier.py', run_name='__main__')\n"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=REPO_ROOT, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Fine-tuning on 16 cola examples" in result.stdout
    assert set(json.loads((tmp_path / "eval_results.json").read_text())) == {"matthews_corrcoef", "accuracy"}


def test_generic_csv_task(tmp_path):
    rows = ["text,label"] + [f"{w} movie,{'good' if w in ('great', 'fine') else 'bad'}"
                             for w in ("great", "awful", "fine", "dull") * 4]
    (tmp_path / "train.csv").write_text("\n".join(rows) + "\n")
    (tmp_path / "reviews.csv").write_text("id,text\nr1,great movie\nr2,dull movie\nr3,fine movie\n")  # no label
    result = _run("--task=csv", f"--train_file={tmp_path}/train.csv", f"--dev_file={tmp_path}/train.csv",
                  "--text_a_column=text", f"--output_dir={tmp_path}/out", "--num_train_epochs=1",
                  "--max_seq_length=16", "--do_predict", f"--test_file={tmp_path}/reviews.csv")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Confusion matrix" in result.stdout and "bad" in result.stdout
    assert set(json.loads((tmp_path / "out/eval_results.json").read_text())) == {"accuracy"}
    rows = [line.split("\t") for line in (tmp_path / "out/reviews_predictions.tsv").read_text().splitlines()]
    assert rows[0] == ["index", "prediction"] and [r[0] for r in rows[1:]] == ["0", "1", "2"]
    assert {r[1] for r in rows[1:]} <= {"bad", "good"}
    result = _run("--task=csv", f"--output_dir={tmp_path}/out")
    assert "--task=csv needs --train_file and --dev_file" in result.stderr


def test_export_after_fine_tuning_serves_raw_text(tmp_path):
    """run_classifier.py -> export_saved_model.py -> a process with only tensorflow(_text)."""
    data = tmp_path / "data"
    data.mkdir()
    for name, rows in (("train.tsv", 32), ("dev.tsv", 16)):
        lines = (BUNDLED / name).read_text(encoding="utf-8").splitlines()
        (data / name).write_text("\n".join(lines[: rows + 1]) + "\n", encoding="utf-8")
    model_dir, export_dir = tmp_path / "model", tmp_path / "export"
    result = _run(f"--data_dir={data}", f"--output_dir={model_dir}", "--num_train_epochs=1", "--max_seq_length=24")
    assert result.returncode == 0, result.stderr[-3000:]
    result = subprocess.run([sys.executable, "examples/export_saved_model.py", f"--model_dir={model_dir}",
                             f"--export_dir={export_dir}", f"--hub_export_dir={tmp_path}/hub",
                             f"--tflite_file={tmp_path}/classifier.tflite"],
                            cwd=REPO_ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "serving_default(text: string[batch])" in result.stdout
    assert (tmp_path / "hub/preprocess/saved_model.pb").exists() and (tmp_path / "hub/encoder/saved_model.pb").exists()

    dev = read_glue_tsv("sst2", data / "dev.tsv")
    classifier = keras.saving.load_model(model_dir / "classifier.keras")
    preprocessor = BertPreprocessor(str(model_dir / "vocab.txt"), 24)
    expected = [int(np.argmax(classifier(preprocessor(np.array([t]))))) for t in dev.text_a]
    accuracy = np.mean(np.array(expected) == np.array(dev.labels))
    for model_flag, source in (("--saved_model", export_dir), ("--tflite_file", tmp_path / "classifier.tflite")):
        served = subprocess.run([sys.executable, "examples/score_saved_model.py", f"{model_flag}={source}",
                                 f"--input_file={data}/dev.tsv", f"--output_file={tmp_path}/served.txt"],
                                cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
        assert served.returncode == 0, served.stderr[-2000:]  # it asserts that keras_bert was never imported
        assert (tmp_path / "served.txt").read_text().split() == [str(label) for label in expected]
        assert f"({len(dev)} rows) through {source}: accuracy = {accuracy:.4f}" in served.stdout
    # The int8 export scores in a fresh process too (its accuracy is measured in tests/export and the reports).
    result = subprocess.run([sys.executable, "examples/export_saved_model.py", f"--model_dir={model_dir}",
                             f"--export_dir={tmp_path}/int8", "--precision=int8"],
                            cwd=REPO_ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    served = subprocess.run([sys.executable, "examples/score_saved_model.py", f"--saved_model={tmp_path}/int8",
                             f"--input_file={data}/dev.tsv", f"--output_file={tmp_path}/int8.txt"],
                            cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert served.returncode == 0, served.stderr[-2000:]
    int8_labels = (tmp_path / "int8.txt").read_text().split()
    assert sum(a == str(b) for a, b in zip(int8_labels, expected)) >= len(expected) - 1, (int8_labels, expected)
    assert f"({len(dev)} rows) through {tmp_path}/int8: accuracy = " in served.stdout
    # --mixed_precision, the older name, still works; a contradiction is refused.
    result = subprocess.run([sys.executable, "examples/export_saved_model.py", f"--model_dir={model_dir}",
                             f"--export_dir={tmp_path}/bf16", "--mixed_precision=bfloat16", "--precision=int8"],
                            cwd=REPO_ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode != 0 and "--mixed_precision=bfloat16 and --precision=int8 disagree" in result.stderr


def test_lora_fine_tuning_saves_a_merged_model_and_a_small_adapter(tmp_path, minilm_path):
    data = tmp_path / "data"
    data.mkdir()
    for name, rows in (("train.tsv", 32), ("dev.tsv", 16)):
        lines = (BUNDLED / name).read_text(encoding="utf-8").splitlines()
        (data / name).write_text("\n".join(lines[: rows + 1]) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    result = _run(f"--data_dir={data}", f"--output_dir={out}", "--num_train_epochs=1", "--max_seq_length=24",
                  "--lora_rank=4", "--learning_rate=1e-3")
    assert result.returncode == 0, result.stderr[-3000:]
    # Every projection by default: 6 blocks x (4 x (384x4 + 4x384) + 2 x (384x4 + 4x1536)), and the head's
    # 384x2 + 2, of the classifier's 22,713,986 and those 165,888.
    assert ("LoRA rank 4 on query, key, value, attention_output, intermediate_dense, output_dense: 166,658 "
            "trainable parameters of 22,879,874 (0.73%).") in result.stdout

    import keras_bert

    merged = keras.saving.load_model(out / "classifier.keras")  # the adapters folded into the kernels
    adapted = keras_bert.BertClassifier.from_preset(minilm_path, num_classes=2)
    adapted.load_lora_weights(str(out / "lora_weights.npz"))  # the base weights plus the small file
    # The 166,658 trained float32 values, and names: 1% of the whole model's file.
    assert 166_658 * 4 < os.path.getsize(out / "lora_weights.npz") < os.path.getsize(out / "classifier.keras") / 100
    inputs = BertPreprocessor(str(out / "vocab.txt"), 24)(np.array(["a gorgeous film", "a dull, lifeless mess"]))
    np.testing.assert_allclose(merged(inputs), adapted(inputs), atol=1e-5)

    base = keras_bert.BertEncoder.from_preset(minilm_path)

    def kernel(encoder, name):
        return np.asarray(getattr(encoder.get_layer("transformer_layer_0").self_attention, name).weights[0])

    assert not np.allclose(kernel(merged.encoder, "query"), kernel(base, "query"))  # trained, then merged
    for frozen, original in zip(merged.encoder.get_layer("embeddings").weights, base.get_layer("embeddings").weights):
        np.testing.assert_array_equal(frozen, original)


def test_resumes_after_sigkill_from_its_last_checkpoint(tmp_path):
    data, out = _small_sst2(tmp_path), tmp_path / "out"
    flags = [f"--data_dir={data}", f"--output_dir={out}", "--num_train_epochs=3", "--train_batch_size=16",
             "--max_seq_length=32", "--save_checkpoints_steps=3"]  # 7 steps an epoch, 21 in all
    # First killed while it starts up (before any checkpoint), then after its checkpoint at step 6.
    early = subprocess.Popen([sys.executable, "examples/run_classifier.py", *flags], cwd=REPO_ROOT,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(random.Random(3).uniform(1.0, 4.0))
    early.send_signal(signal.SIGKILL)
    early.wait()
    process = subprocess.Popen([sys.executable, "examples/run_classifier.py", *flags], cwd=REPO_ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    state = out / "training_state/checkpoints/checkpoint"
    deadline = time.time() + 600
    while time.time() < deadline and not (state.exists() and "ckpt-6" in state.read_text()):
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert not (out / "eval_results.json").exists()  # killed mid-training

    result = _run(*flags)
    assert result.returncode == 0, result.stderr[-3000:]
    resumed_from = int(result.stdout.split("at step ")[1].split()[0])
    assert 6 <= resumed_from < 21 and resumed_from % 3 == 0
    steps = [json.loads(line)["step"] for line in (out / "training_state/metrics.jsonl").read_text().splitlines()]
    continued = list(range(resumed_from + 3, 22, 3))  # from the checkpoint on, to the same end
    assert steps[-len(continued):] == continued
    assert set(json.loads((out / "eval_results.json").read_text())) == {"accuracy"}
    assert not (out / "training_state/checkpoints").exists()  # done: the next run starts afresh


def test_unwritable_or_full_output_directory_is_named_before_training(tmp_path):
    (tmp_path / "a_file").write_text("in the way")
    result = _run(f"--output_dir={tmp_path}/a_file/out")
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert f"cannot write --output_dir={tmp_path}/a_file/out (Not a directory)" in result.stderr
    full = tmp_path / "full"
    full.mkdir()
    # A 64 KiB file system, filled up: needs mount rights (root in a container), else skipped.
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(full)], capture_output=True).returncode:
        pytest.skip("cannot mount a small tmpfs here to fill up")
    try:
        fd = os.open(full / "filler", os.O_WRONLY | os.O_CREAT)
        try:
            while os.write(fd, b"x" * 1024):
                pass
        except OSError:  # full
            pass
        os.close(fd)
        result = _run(f"--output_dir={full}/out")
        assert result.returncode != 0 and "Traceback" not in result.stderr
        assert f"cannot write --output_dir={full}/out (No space left on device)" in result.stderr
    finally:
        subprocess.run(["umount", str(full)])


def _regression_predictions(out, example_sets, seq_length):
    """The saved model's STS-B scores for each of `example_sets`, recomputed here."""
    from keras_bert.training.unlabelled_prediction import predict_unlabelled

    settings = json.loads((out / "serving.json").read_text())
    preprocessor = BertPreprocessor(str(out / "vocab.txt"), seq_length, lower_case=settings["lower_case"])
    regressor = keras.saving.load_model(out / "classifier.keras")
    return [predict_unlabelled(regressor, examples, preprocessor, 16) for examples in example_sets]


@pytest.fixture(scope="module")
def stsb_run(tmp_path_factory, shared_data):
    """run_classifier.py --task=stsb --do_predict --skip_bad_rows on a small STS-B-layout slice, once.

    There is no STS-B data here: the files have STS-B's layout (10 columns, the score last;
    the test file without it) and MRPC's sentence pairs, scored 5.000 for a paraphrase and
    0.000 otherwise. One training row is broken (a column lost), for --skip_bad_rows.
    """
    data, out = tmp_path_factory.mktemp("stsb"), tmp_path_factory.mktemp("stsb_out")
    header = "index\tgenre\tfilename\tyear\told_index\tsource1\tsource2\tsentence1\tsentence2"

    def mrpc(name, start, stop):
        rows = read_glue_tsv("mrpc", shared_data / "glue/mrpc" / name)
        return [(rows.labels[i], rows.text_a[i], rows.text_b[i]) for i in range(start, stop)]

    def stsb_rows(pairs, scored):
        return [f"{i}\tmain-news\tMRPC\t2005\t{i:04d}\tnone\tnone\t{a}\t{b}" + (f"\t{5.0 * label:.3f}" if scored else "")
                for i, (label, a, b) in enumerate(pairs)]

    train = stsb_rows(mrpc("train.tsv", 0, 48), True)
    train.insert(5, train[5].rsplit("\t", 2)[0] + "\t5.000")  # line 7: a row without sentence2
    (data / "train.tsv").write_text("\n".join([header + "\tscore"] + train) + "\n", encoding="utf-8")
    (data / "dev.tsv").write_text("\n".join([header + "\tscore"] + stsb_rows(mrpc("dev.tsv", 0, 40), True)) + "\n",
                                  encoding="utf-8")
    (data / "test.tsv").write_text("\n".join([header] + stsb_rows(mrpc("dev.tsv", 40, 64), False)) + "\n",
                                   encoding="utf-8")
    result = _run("--task=stsb", f"--data_dir={data}", f"--output_dir={out}", "--num_train_epochs=1",
                  "--train_batch_size=16", "--max_seq_length=32", "--learning_rate=1e-4", "--do_predict",
                  "--skip_bad_rows")
    return data, out, result


def test_stsb_regression_end_to_end(stsb_run):
    data, out, result = stsb_run
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Fine-tuning on 48 stsb examples for 3 steps" in result.stdout
    assert f"{data}/train.tsv: skipped 1 bad row(s) of 49, at line 7; the first, line 7: 9 tab-separated" \
        in result.stderr
    # The reported Pearson and Spearman are those of the saved model's dev predictions, recomputed here.
    dev = read_glue_tsv("stsb", data / "dev.tsv")
    test = read_glue_split("stsb", data, "test")["test.tsv"]
    scores, test_scores = _regression_predictions(out, [dev, test], 32)
    results = json.loads((out / "eval_results.json").read_text())
    assert set(results) == {"pearson", "spearman"}
    assert results["pearson"] == pytest.approx(scipy.stats.pearsonr(scores, dev.labels)[0], abs=1e-5)
    assert results["spearman"] == pytest.approx(scipy.stats.spearmanr(scores, dev.labels)[0], abs=1e-5)
    # STS-B.tsv, as the leaderboard takes it: the test file's index, the score clipped to [0, 5].
    assert f"stsb test.tsv (24 examples): predictions in {out}/STS-B.tsv" in result.stdout
    lines = (out / "STS-B.tsv").read_text().splitlines()
    assert lines[0] == "index\tprediction" and [line.split("\t")[0] for line in lines[1:]] == test.ids
    written = np.array([float(line.split("\t")[1]) for line in lines[1:]])
    assert written == pytest.approx(np.clip(test_scores, 0, 5), abs=1e-5)
    assert ((0 <= written) & (written <= 5)).all()


def test_nodo_train_scores_and_predicts_with_the_saved_model(stsb_run, tmp_path):
    data, trained, _ = stsb_run
    out = tmp_path / "out"
    shutil.copytree(trained, out)
    (out / "STS-B.tsv").unlink()
    result = _run("--task=stsb", f"--data_dir={data}", f"--output_dir={out}", "--nodo_train", "--do_predict",
                  "--skip_bad_rows")  # --max_seq_length: the saved run's 32
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Fine-tuning" not in result.stdout
    assert (out / "STS-B.tsv").read_text() == (trained / "STS-B.tsv").read_text()
    assert json.loads((out / "eval_results.json").read_text()) == pytest.approx(
        json.loads((trained / "eval_results.json").read_text()))
    result = _run("--task=rte", f"--data_dir={data}", f"--output_dir={out}", "--nodo_train")
    assert result.returncode != 0 and "was fine-tuned on 'stsb', not 'rte'" in result.stderr


def test_mnli_predictions_for_the_leaderboard(tmp_path):
    """MNLI's official files (fixtures): MNLI-m.tsv, MNLI-mm.tsv and AX.tsv with label names."""
    data = REPO_ROOT / "tests/data/glue_fixtures/mnli"
    result = _run("--task=mnli", f"--data_dir={data}", f"--output_dir={tmp_path}", "--num_train_epochs=1",
                  "--train_batch_size=4", "--max_seq_length=16", "--do_predict")
    assert result.returncode == 0, result.stderr[-3000:]
    assert set(json.loads((tmp_path / "eval_results.json").read_text())) == {
        "dev_matched_accuracy", "dev_mismatched_accuracy"}
    for name, test_file in (("MNLI-m.tsv", "test_matched.tsv"), ("MNLI-mm.tsv", "test_mismatched.tsv"),
                            ("AX.tsv", "AX.tsv")):
        lines = (tmp_path / name).read_text().splitlines()
        ids = read_glue_split("mnli", data, "test")[test_file].ids
        assert lines[0] == "index\tprediction" and [line.split("\t")[0] for line in lines[1:]] == ids
        assert {line.split("\t")[1] for line in lines[1:]} <= {"contradiction", "entailment", "neutral"}
