"""examples/run_pretraining.py end to end: train, evaluate, export, resume after SIGKILL, fine-tune."""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from conftest import REPO_ROOT
from keras_bert import load_encoder, read_checkpoint
from keras_bert.checkpoints import tf1_checkpoint

SMALL = [
    "--model_size=tiny", "--train_batch_size=8", "--max_seq_length=64", "--max_predictions_per_seq=10",
    "--eval_batch_size=16", "--max_eval_steps=2", "--num_warmup_steps=5", "--learning_rate=1e-3",
    "--steps_per_loop=10", "--save_checkpoints_steps=10",
]


def _command(model_dir, *flags):
    return [sys.executable, "examples/run_pretraining.py", f"--model_dir={model_dir}", *SMALL, *flags]


def _run(model_dir, *flags):
    return subprocess.run(_command(model_dir, *flags), cwd=REPO_ROOT, capture_output=True, text=True, timeout=900)


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory, minilm_path):
    model_dir = tmp_path_factory.mktemp("run")
    result = _run(model_dir, "--num_train_steps=40")
    assert result.returncode == 0, result.stderr[-3000:]
    return model_dir, result


def test_trains_evaluates_and_exports(trained_run):
    model_dir, result = trained_run
    rows = [json.loads(line) for line in (model_dir / "metrics.jsonl").read_text().splitlines()]
    assert [row["step"] for row in rows] == [10, 20, 30, 40]
    assert rows[-1]["mlm_loss"] < rows[0]["mlm_loss"] - 1.0  # the loss falls
    assert all(row["sequences_per_second"] > 0 for row in rows)
    results = json.loads((model_dir / "eval_results.json").read_text())
    assert {"mlm_accuracy", "nsp_accuracy", "mlm_loss", "nsp_loss", "loss"} <= set(results)
    assert (model_dir / "curves.png").stat().st_size > 10_000
    assert list((model_dir / "logs").iterdir())  # TensorBoard event files
    assert "Made" in result.stdout and "Held-out:" in result.stdout


def test_run_directory_and_google_export_hold_the_same_weights(trained_run):
    model_dir, _ = trained_run
    from_run = read_checkpoint(str(model_dir))
    assert from_run.source.endswith("ckpt-40")
    exported = read_checkpoint(tf1_checkpoint.find_checkpoint_prefix(str(model_dir)))
    assert sorted(exported.heads) == sorted(from_run.heads) and len(exported.heads) == 7
    for name, value in exported.weights.items():
        np.testing.assert_array_equal(from_run.weights[name], value, err_msg=name)
    assert load_encoder(str(model_dir)).config.num_layers == 2


def test_fine_tunes_from_the_pretrained_run(trained_run, tmp_path):
    model_dir, _ = trained_run
    data = tmp_path / "data"
    data.mkdir()
    for name, rows in (("train.tsv", 64), ("dev.tsv", 32)):
        lines = (REPO_ROOT / "examples/data/sst2" / name).read_text(encoding="utf-8").splitlines()
        (data / name).write_text("\n".join(lines[: rows + 1]) + "\n", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "examples/run_classifier.py", f"--init_checkpoint={model_dir}", f"--data_dir={data}",
         f"--output_dir={tmp_path / 'out'}", "--num_train_epochs=1", "--train_batch_size=16", "--max_seq_length=32"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=900,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "accuracy" in json.loads((tmp_path / "out/eval_results.json").read_text())


def test_resumes_after_sigkill(trained_run, tmp_path):
    model_dir = tmp_path / "killed"
    model_dir.mkdir()
    # Reuse the instances made by the first run: the kill should hit training.
    os.symlink(trained_run[0] / "data", model_dir / "data")
    process = subprocess.Popen(
        _command(model_dir, "--num_train_steps=200", "--do_eval=false"),
        cwd=REPO_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    state = model_dir / "checkpoints/checkpoint"
    deadline = time.time() + 300
    while time.time() < deadline and not (state.exists() and "ckpt-20" in state.read_text()):
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    killed_at = [json.loads(line)["step"] for line in (model_dir / "metrics.jsonl").read_text().splitlines()]
    assert 20 <= killed_at[-1] < 200, killed_at

    result = _run(model_dir, "--num_train_steps=200", "--do_eval=false")
    assert result.returncode == 0, result.stderr[-3000:]
    resumed_from = int(result.stdout.split("at step ")[1].split()[0])
    assert 20 <= resumed_from < 200 and resumed_from % 10 == 0
    rows = [json.loads(line) for line in (model_dir / "metrics.jsonl").read_text().splitlines()]
    steps = [row["step"] for row in rows]
    # The restart goes on from the checkpoint (no step-0 restart) to the same end.
    assert steps[len(killed_at):][0] == resumed_from + 10 and steps[-1] == 200
    # Its training time goes on from the time logged at the step it resumed from.
    before = next(row["train_seconds"] for row in rows if row["step"] == resumed_from)
    assert rows[len(killed_at)]["train_seconds"] > before
    assert read_checkpoint(str(model_dir)).source.endswith("ckpt-200")

    # Started again when done, it trains nothing more.
    again = _run(model_dir, "--num_train_steps=200", "--do_eval=false")
    assert "nothing to train" in again.stdout


def _metric_steps(model_dir):
    path = model_dir / "metrics.jsonl"
    return [json.loads(line)["step"] for line in path.read_text().splitlines()] if path.exists() else []


def _half_write_next_checkpoint(model_dir):
    """Leaves what a kill during the next checkpoint's write leaves: a temp folder and data without an index."""
    checkpoints = model_dir / "checkpoints"
    newest = max(int(p.name.split("-")[1].split(".")[0]) for p in checkpoints.glob("ckpt-*.index"))
    data = next(checkpoints.glob(f"ckpt-{newest}.data-*")).read_bytes()
    following = f"ckpt-{newest + 10}"
    # The kill itself may have cut that write already (its temp folder exists): cut it again.
    (checkpoints / f"{following}_temp").mkdir(exist_ok=True)
    (checkpoints / f"{following}_temp/part-00000-of-00001.data-00000-of-00001").write_bytes(data[: len(data) // 3])
    # A file TensorFlow's own save would not overwrite: only the run's clean-up at start removes the folder.
    (checkpoints / f"{following}_temp/part-00000-of-00001.index.tempstate123").write_bytes(b"cut")
    (checkpoints / f"{following}.data-00000-of-00001").write_bytes(data[: len(data) // 2])
    return newest


def test_survives_kills_at_random_points_and_half_written_checkpoints(trained_run, tmp_path):
    """SIGKILL before the first checkpoint, then at random steps; a kill mid-write; the run still ends at 80."""
    import random

    model_dir = tmp_path / "kills"
    model_dir.mkdir()
    os.symlink(trained_run[0] / "data", model_dir / "data")
    flags = ("--num_train_steps=80", "--steps_per_loop=5", "--do_eval=false")
    rng = random.Random(7)
    # (metric step to wait for, or None: kill while starting up), then a random extra delay.
    kill_points = [None, rng.randrange(10, 30, 5), rng.randrange(35, 60, 5)]
    resumed = []
    for target in kill_points:
        process = subprocess.Popen(_command(model_dir, *flags), cwd=REPO_ROOT, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
        deadline = time.time() + 300
        if target is None:
            time.sleep(rng.uniform(1.0, 4.0))  # TensorFlow is still loading: no checkpoint yet
        else:
            while time.time() < deadline and (not _metric_steps(model_dir) or _metric_steps(model_dir)[-1] < target):
                time.sleep(0.02)
            time.sleep(rng.uniform(0.0, 0.5))
        process.send_signal(signal.SIGKILL)
        process.wait()
        assert not (model_dir / "bert_model.ckpt.index").exists()  # killed before the end
        if target is not None:
            resumed.append(_half_write_next_checkpoint(model_dir))

    result = _run(model_dir, *flags)
    assert result.returncode == 0, result.stderr[-3000:]
    # It restored the newest complete checkpoint, not the half-written one after it.
    assert f"at step {resumed[-1]} of 80" in result.stdout
    steps = _metric_steps(model_dir)
    assert steps[-1] == 80 and sorted(set(steps)) == list(range(5, 85, 5))  # every step range trained
    checkpoint = read_checkpoint(str(model_dir))
    assert checkpoint.source.endswith("ckpt-80")
    assert all(np.isfinite(v).all() for v in checkpoint.weights.values())
    assert not list((model_dir / "checkpoints").glob("*_temp"))  # the leftover of the cut write is gone


def test_corrupt_or_foreign_instance_files_are_named_before_training(trained_run, tmp_path):
    from keras_bert.data.pretraining_data import PretrainingInstance
    from keras_bert.data.pretraining_records import write_instances

    records = (trained_run[0] / "data/train.tfrecord").read_bytes()
    truncated = tmp_path / "truncated.tfrecord"
    truncated.write_bytes(records[: len(records) // 2])
    flipped = tmp_path / "flipped.tfrecord"
    middle = len(records) // 2
    flipped.write_bytes(records[:middle] + bytes([records[middle] ^ 0xFF]) + records[middle + 1 :])
    foreign = tmp_path / "foreign.tfrecord"
    write_instances([PretrainingInstance([2, 40000, 3, 9, 3], [0, 0, 0, 1, 1], 0)] * 8, [str(foreign)], 64)
    for path, message in ((truncated, "is truncated or corrupt"), (flipped, "is truncated or corrupt"),
                          (foreign, "holds token id 40000, but the vocabulary has 30522 tokens")):
        result = _run(tmp_path / path.stem, f"--input_files={path}", "--num_train_steps=10", "--do_eval=false")
        assert result.returncode != 0 and f"{path} {message}" in result.stderr, result.stderr[-2000:]
        assert "Traceback" not in result.stderr
        assert not (tmp_path / path.stem / "metrics.jsonl").exists()  # stopped before the first step


def test_errors_name_the_problem(trained_run, tmp_path):
    model_dir, _ = trained_run
    other_shape = _run(model_dir, "--model_size=mini", "--num_train_steps=40")
    assert other_shape.returncode != 0 and "holds a run of another shape" in other_shape.stderr
    missing = _run(tmp_path / "x", "--input_files=/nonexistent/*.txt")
    assert missing.returncode != 0 and "No files match ['/nonexistent/*.txt']" in missing.stderr
    small = tmp_path / "bert_config.json"
    small.write_text('{"vocab_size": 100, "hidden_size": 16, "num_hidden_layers": 1, "num_attention_heads": 2, '
                     '"intermediate_size": 32}')
    too_small = _run(tmp_path / "y", f"--bert_config_file={small}")
    assert too_small.returncode != 0
    assert "has 30522 tokens but the checkpoint's vocab_size is 100" in too_small.stderr


@pytest.mark.parametrize("precision", ["bfloat16", "float16"])
def test_mixed_precision_accumulation_and_whole_word_masking(trained_run, tmp_path, precision):
    model_dir = tmp_path / precision
    model_dir.mkdir()
    os.symlink(trained_run[0] / "data", model_dir / "data")
    # Few steps: float16 matmuls are emulated on CPUs, and slow.
    result = _run(model_dir, f"--mixed_precision={precision}", "--grad_accum_steps=2", "--whole_word_masking",
                  "--num_train_steps=10", "--steps_per_loop=5", "--save_checkpoints_steps=5", "--do_eval=false")
    assert result.returncode == 0, result.stderr[-3000:]
    rows = [json.loads(line) for line in (model_dir / "metrics.jsonl").read_text().splitlines()]
    assert [row["step"] for row in rows] == [5, 10]  # updates, not micro-batches
    assert all(np.isfinite(row["loss"]) for row in rows) and rows[1]["mlm_loss"] < rows[0]["mlm_loss"]
    # Variables stay float32 under a mixed policy, so the export is float32.
    assert read_checkpoint(str(model_dir)).weights["bert/pooler/dense/kernel"].dtype == np.float32


def test_a_diverging_run_stops_and_keeps_its_last_good_checkpoint(trained_run, tmp_path):
    model_dir = tmp_path / "diverged"
    model_dir.mkdir()
    os.symlink(trained_run[0] / "data", model_dir / "data")
    good = _run(model_dir, "--num_train_steps=10", "--do_eval=false")
    assert good.returncode == 0, good.stderr[-3000:]
    # Continue the same run at an absurd learning rate: the loss overflows.
    result = _run(model_dir, "--num_train_steps=60", "--learning_rate=1e30", "--num_warmup_steps=0", "--do_eval=false")
    assert result.returncode != 0
    assert "The training loss became" in result.stderr and "at step" in result.stderr
    assert "ckpt-10) is the last good one" in result.stderr
    assert read_checkpoint(str(model_dir)).source.endswith("ckpt-10")
    assert all(np.isfinite(v).all() for v in read_checkpoint(str(model_dir)).weights.values())


def test_an_unreadable_newest_checkpoint_falls_back_to_the_one_before(trained_run, tmp_path):
    import shutil

    model_dir = tmp_path / "copy"
    shutil.copytree(trained_run[0], model_dir, ignore=shutil.ignore_patterns("data"))
    newest = next((model_dir / "checkpoints").glob("ckpt-40.data-*"))
    newest.write_bytes(newest.read_bytes()[:100])  # a write cut short
    checkpoint = read_checkpoint(str(model_dir))
    assert checkpoint.source.endswith("ckpt-30")


def test_two_seeded_deterministic_runs_make_the_same_data_and_losses(tmp_path):
    """Same instances (byte for byte), same dynamic masks and the same loss at each of 100 steps."""
    flags = ["--num_train_steps=100", "--steps_per_loop=1", "--save_checkpoints_steps=100", "--do_eval=false",
             "--deterministic"]
    runs = [tmp_path / "a", tmp_path / "b"]
    for model_dir in runs:
        result = _run(model_dir, *flags)
        assert result.returncode == 0, result.stderr[-3000:]
    assert (runs[0] / "data/train.tfrecord").read_bytes() == (runs[1] / "data/train.tfrecord").read_bytes()
    losses = [[(row["step"], row["mlm_loss"], row["nsp_loss"])
               for row in map(json.loads, (model_dir / "metrics.jsonl").read_text().splitlines())]
              for model_dir in runs]
    assert len(losses[0]) == 100 and losses[0] == losses[1]


def test_packed_sequences_without_dropout_and_a_held_out_curve(tmp_path, minilm_path):
    # The small-budget recipe: full single-segment windows (MLM only), dropout off while pretraining, a higher
    # peak learning rate (an explicit flag wins over the preset); and held-out scores against the training time.
    model_dir = tmp_path / "packed"
    result = _run(model_dir, "--num_train_steps=20", "--recipe=small_budget", "--eval_every_steps=10")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Recipe small_budget: --packed_sequences=True, --dropout=0.0, --learning_rate=0.001" in result.stdout
    import tensorflow as tf

    masks = [tf.train.Example.FromString(record.numpy()).features.feature["input_mask"].int64_list.value
             for record in tf.data.TFRecordDataset(str(model_dir / "data/train.packed.tfrecord"))]
    assert len(masks) > 100 and all(min(mask) == 1 for mask in masks)  # every position holds text
    rows = [json.loads(line) for line in (model_dir / "metrics.jsonl").read_text().splitlines()]
    assert [row["step"] for row in rows] == [10, 20]
    assert all(row["loss"] == pytest.approx(row["mlm_loss"], rel=1e-5) for row in rows)  # no NSP loss
    assert 0 < rows[0]["train_seconds"] < rows[1]["train_seconds"]
    # The last in-training evaluation scores the same model on the same batches as the final one.
    final = json.loads((model_dir / "eval_results.json").read_text())
    assert rows[1]["eval_mlm_accuracy"] == pytest.approx(final["mlm_accuracy"], abs=1e-6)
    assert rows[1]["eval_mlm_loss"] == pytest.approx(final["mlm_loss"], rel=1e-5)
    # Dropout is a pretraining setting: the saved architecture keeps 0.1 for fine-tuning.
    assert json.loads((model_dir / "bert_config.json").read_text())["hidden_dropout_prob"] == 0.1

    both = _run(tmp_path / "both", "--packed_sequences", "--next_sentence_prediction=true")
    assert both.returncode != 0 and "no next sentence to predict" in both.stderr
    uneven = _run(tmp_path / "uneven", "--eval_every_steps=15")
    assert uneven.returncode != 0 and "must be a multiple of --steps_per_loop=10" in uneven.stderr


def test_left_to_right_and_no_nsp_ablations(tmp_path, minilm_path):
    # The paper's "LTR & No NSP" row: a causal encoder, next-token targets, the NSP loss left out.
    model_dir = tmp_path / "ltr"
    result = _run(model_dir, "--num_train_steps=20", "--objective=ltr", "--next_sentence_prediction=false")
    assert result.returncode == 0, result.stderr[-3000:]
    config = json.loads((model_dir / "bert_config.json").read_text())
    assert config["keras_bert_causal_attention"] is True
    assert load_encoder(model_dir).config.causal_attention
    for row in map(json.loads, (model_dir / "metrics.jsonl").read_text().splitlines()):
        assert row["loss"] == pytest.approx(row["mlm_loss"], rel=1e-5)  # NSP weighs nothing
    heads = read_checkpoint(str(model_dir)).heads
    assert heads["cls/seq_relationship/output_bias"].tolist() == [0.0, 0.0]  # untrained: no NSP gradient

    # A bidirectional checkpoint cannot continue as a left-to-right model, and vice versa.
    wrong = _run(tmp_path / "wrong", "--num_train_steps=20", "--objective=mlm", f"--init_checkpoint={model_dir}")
    assert wrong.returncode != 0 and "needs a bidirectional encoder" in wrong.stderr
    assert "Traceback" not in wrong.stderr
