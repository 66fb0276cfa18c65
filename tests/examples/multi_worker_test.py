"""The scripts themselves as two worker processes on 127.0.0.1 (MultiWorkerMirroredStrategy from TF_CONFIG).

Two workers split each global batch; the result must be the one-process
run's on the same global batch (dropout off, so both draw no randomness
in the step), only the chief writes, and a job whose worker is killed
resumes from its last checkpoint with every step applied exactly once.
"""

import json
import os
import re
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import tensorflow as tf

from conftest import REPO_ROOT, free_ports
from keras_bert.checkpoints.run_directory import checkpoint_paths

STEPS = 60
# A small encoder without dropout: bert_config.json in Google's format.
CONFIG = {"vocab_size": 30522, "hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2,
          "intermediate_size": 64, "hidden_act": "gelu", "hidden_dropout_prob": 0.0,
          "attention_probs_dropout_prob": 0.0, "max_position_embeddings": 64, "type_vocab_size": 2,
          "initializer_range": 0.02}


def _pretraining_flags(tmp_path, model_dir):
    config = tmp_path / "bert_config.json"
    config.write_text(json.dumps(CONFIG))
    return [sys.executable, "examples/run_pretraining.py", f"--model_dir={model_dir}", f"--bert_config_file={config}",
            "--train_batch_size=8", "--max_seq_length=64", "--max_predictions_per_seq=10", "--num_warmup_steps=5",
            "--learning_rate=1e-3", "--steps_per_loop=10", "--save_checkpoints_steps=20",
            f"--num_train_steps={STEPS}", "--do_eval=false"]


def _start_workers(command):
    workers = [f"127.0.0.1:{port}" for port in free_ports(2)]
    return [
        subprocess.Popen(command + ["--distribution_strategy=multi_worker_mirrored"], cwd=REPO_ROOT,
                         env={**os.environ, "TF_CONFIG": json.dumps(
                             {"cluster": {"worker": workers}, "task": {"type": "worker", "index": i}})},
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for i in range(2)
    ]


def _finish(processes):
    """The workers' stdout, once each has exited cleanly."""
    results = [process.communicate(timeout=900) for process in processes]
    # Every worker's error: the first to fail often only reports that another stopped answering.
    failed = [f"worker {i} (exit {process.returncode}):\n{stderr[-2000:]}"
              for i, (process, (_, stderr)) in enumerate(zip(processes, results)) if process.returncode]
    assert not failed, "\n\n".join(failed)
    return [stdout for stdout, _ in results]


def _weights(model_dir):
    reader = tf.train.load_checkpoint(str(model_dir / "bert_model.ckpt"))
    return {name: reader.get_tensor(name) for name in reader.get_variable_to_shape_map()}


def _losses(model_dir):
    return [(row["step"], row["loss"]) for row in map(json.loads, (model_dir / "metrics.jsonl").read_text().splitlines())]


@pytest.fixture(scope="module")
def one_process_run(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("one")
    result = subprocess.run(_pretraining_flags(tmp_path, tmp_path / "run"), cwd=REPO_ROOT, capture_output=True,
                            text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    return tmp_path / "run"


@pytest.fixture(scope="module")
def two_worker_run(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("two")
    _finish(_start_workers(_pretraining_flags(tmp_path, tmp_path / "run")))
    return tmp_path / "run"


def test_two_workers_pretrain_as_one_process_does(one_process_run, two_worker_run):
    # Only the chief logs: one line per loop, not two; the same losses as one process.
    two, one = _losses(two_worker_run), _losses(one_process_run)
    assert [step for step, _ in two] == list(range(10, STEPS + 1, 10))
    np.testing.assert_allclose([loss for _, loss in two], [loss for _, loss in one], rtol=1e-5)
    expected = _weights(one_process_run)
    for name, value in _weights(two_worker_run).items():
        np.testing.assert_allclose(value, expected[name], atol=2e-5, err_msg=name)


def test_a_killed_worker_and_a_restarted_job_apply_every_step_once(tmp_path, two_worker_run):
    model_dir = tmp_path / "run"
    command = _pretraining_flags(tmp_path, model_dir)
    workers = _start_workers(command)
    deadline = time.time() + 600
    # The step-20 checkpoint counts once the manager has recorded it (its files come first, then the
    # `checkpoint` state file): a kill in between leaves nothing to resume from, and the job restarts at 0.
    while not any(path.endswith("ckpt-20") for path in checkpoint_paths(str(model_dir))):
        assert time.time() < deadline and all(w.poll() is None for w in workers), "no checkpoint before the job ended"
        time.sleep(0.05)
    workers[1].send_signal(signal.SIGKILL)  # a worker lost mid-run...
    workers[0].send_signal(signal.SIGKILL)  # ...and the job torn down, as a cluster manager would
    for worker in workers:
        worker.communicate(timeout=60)
    assert not (model_dir / "bert_model.ckpt.index").exists(), "killed before the end"
    chief_output, _ = _finish(_start_workers(command))
    resumed_from = int(re.search(r"Resuming from \S+ at step (\d+) of", chief_output).group(1))
    assert 20 <= resumed_from < STEPS
    logged = [step for step, _ in _losses(model_dir)]
    assert logged[-1] == STEPS and logged.count(STEPS) == 1
    # Each step once, on the batch it had in the unbroken job: the same weights.
    expected = _weights(two_worker_run)
    for name, value in _weights(model_dir).items():
        np.testing.assert_allclose(value, expected[name], atol=1e-6, err_msg=name)


def test_two_workers_fine_tune_as_one_process_does(tmp_path, minilm_path):
    from keras_bert import BertEncoder, save_tf1_checkpoint
    from keras_bert.checkpoints import read_config_json

    # A small checkpoint without dropout (the head takes the checkpoint's), over the real uncased vocabulary.
    (tmp_path / "bert_config.json").write_text(json.dumps(CONFIG))
    checkpoint = tmp_path / "checkpoint"
    encoder = BertEncoder.from_bert_config(read_config_json(str(tmp_path / "bert_config.json")))
    save_tf1_checkpoint(encoder, str(checkpoint), vocab_file=f"{minilm_path}/vocab.txt")
    flags = ["examples/run_classifier.py", f"--init_checkpoint={checkpoint}", "--max_train_examples=256",
             "--num_train_epochs=1", "--train_batch_size=16", "--max_seq_length=32", "--learning_rate=1e-3",
             "--save_checkpoints_steps=8"]
    one = subprocess.run([sys.executable, *flags, f"--output_dir={tmp_path / 'one'}"], cwd=REPO_ROOT,
                         capture_output=True, text=True, timeout=900)
    assert one.returncode == 0, one.stderr[-3000:]
    chief_output, _ = _finish(_start_workers([sys.executable, *flags, f"--output_dir={tmp_path / 'two'}"]))
    assert "2 replica(s)" in chief_output
    results = [json.loads((tmp_path / run / "eval_results.json").read_text()) for run in ("one", "two")]
    assert results[1] == pytest.approx(results[0], abs=1e-6)
    import keras

    import keras_bert  # noqa: F401 (registers the saved classes)

    models = [keras.saving.load_model(tmp_path / run / "classifier.keras") for run in ("one", "two")]
    for a, b in zip(models[0].weights, models[1].weights):
        np.testing.assert_allclose(np.asarray(b), np.asarray(a), atol=2e-5, err_msg=a.path)
