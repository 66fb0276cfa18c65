"""Evaluation during training: the best model is the one kept, early stopping counts misses, and a run
killed and restarted keeps its best-so-far and ends as the unbroken run does."""

import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_bert import BertClassifier, BertEncoder
from keras_bert.training import (
    DevEvaluation,
    compile_classifier,
    fit_for_steps,
    optimizer_step,
    training_steps,
)

# A scripted dev score per step (the evaluate function below reports it), so the test knows the best step.
SCORES = {2: 0.50, 4: 0.90, 6: 0.70, 8: 0.90, 10: 0.60, 12: 0.95}


class Crash(Exception):
    pass


class ScriptedDev:
    """`evaluate(model)`: the scripted score of the model's step; records the weights it saw at each step."""

    def __init__(self, crash_at=None):
        self.weights_at, self.crash_at = {}, crash_at

    def __call__(self, model):
        step = optimizer_step(model.optimizer)
        if step == self.crash_at:
            raise Crash(f"killed at step {step}")
        self.weights_at[step] = [np.array(w) for w in model.weights]
        return {"accuracy": SCORES[step], "loss": 1.0 - SCORES[step]}


def _train(run_dir, dev, patience=None, metric="accuracy", total_epochs=12):
    """A tiny classifier trained 1 step per epoch on 2 examples, dev-scored every 2 steps."""
    keras.utils.set_random_seed(0)
    encoder = BertEncoder(vocab_size=23, hidden_size=8, num_layers=1, num_attention_heads=2, intermediate_size=12)
    model = BertClassifier(encoder, num_classes=2, dropout=0.0)
    ids = np.arange(10, dtype="int32").reshape(2, 5) % 23
    inputs = {"input_word_ids": ids, "input_mask": np.ones_like(ids), "input_type_ids": 0 * ids}
    dataset = tf.data.Dataset.from_tensors((inputs, np.array([0, 1]))).repeat()
    steps = training_steps(num_examples=2, batch_size=2, num_epochs=total_epochs, warmup_proportion=0.0)
    compile_classifier(model, learning_rate=1e-2, total_steps=steps.total_steps)
    evaluation = DevEvaluation(dev, steps, str(run_dir / "best_model"), eval_steps=2, metric=metric,
                               patience=patience)
    fit_for_steps(model, dataset, steps, run_dir=str(run_dir), save_checkpoints_steps=4, evaluation=evaluation)
    return model, evaluation


def _assert_weights(model, expected):
    for actual, wanted in zip(model.weights, expected):
        np.testing.assert_allclose(np.asarray(actual), wanted, atol=1e-6)


def test_the_model_kept_is_the_best_evaluation_and_ties_keep_the_earlier(tmp_path):
    dev = ScriptedDev()
    model, evaluation = _train(tmp_path, dev)
    assert sorted(dev.weights_at) == [2, 4, 6, 8, 10, 12]
    assert evaluation.best == {"step": 12, "epoch": 12.0, "metrics": {"accuracy": 0.95, "loss": pytest.approx(0.05)}}
    _assert_weights(model, dev.weights_at[12])
    # The scores reach the run's log (and TensorBoard) as eval_*; a log line ends each evaluation's loop.
    with open(tmp_path / "metrics.jsonl") as f:
        logged = {int(line["step"]): line["eval_accuracy"] for line in map(json.loads, f)}
    assert logged == SCORES
    # A later equal score (step 8 ties step 4) is no improvement; minimising loss picks the same steps.
    model, evaluation = _train(tmp_path / "loss", ScriptedDev(), metric="loss", total_epochs=10)
    assert evaluation.best["step"] == 4 and evaluation.greater_is_better is False


def test_early_stopping_after_patience_misses_keeps_the_best(tmp_path):
    dev = ScriptedDev()
    model, evaluation = _train(tmp_path, dev, patience=2)
    # Best at 4; 6 and 8 (a tie) miss: stopped at step 8, never reaching 10 or 12.
    assert sorted(dev.weights_at) == [2, 4, 6, 8]
    assert evaluation.best["step"] == 4 and int(model.optimizer.iterations) == 8
    _assert_weights(model, dev.weights_at[4])
    assert not list((tmp_path / "best_model").glob("*.weights.npz")), "weight files are removed once restored"


def test_a_killed_run_resumes_with_its_best_so_far(tmp_path):
    straight_dev = ScriptedDev()
    straight, straight_evaluation = _train(tmp_path / "straight", straight_dev)

    run_dir = tmp_path / "killed"
    # Killed while evaluating step 10: the newest checkpoint is step 8 (checkpoints every 4, and at evaluations).
    with pytest.raises(Crash):
        _train(run_dir, ScriptedDev(crash_at=10))
    with open(run_dir / "best_model" / "evaluations.jsonl") as f:
        assert [json.loads(line)["step"] for line in f] == [2, 4, 6, 8]
    resumed_dev = ScriptedDev()
    resumed, evaluation = _train(run_dir, resumed_dev)
    assert sorted(resumed_dev.weights_at) == [10, 12], "steps 2-8 were evaluated before the kill, not again"
    assert [entry["step"] for entry in evaluation.history] == [2, 4, 6, 8, 10, 12]
    assert evaluation.best == straight_evaluation.best and evaluation.best["step"] == 12
    _assert_weights(resumed, [np.asarray(w) for w in straight.weights])


def test_resuming_after_an_early_stop_with_misses_from_before_the_kill(tmp_path):
    # Killed at step 10 with patience 3: 6 and 8 missed before the kill, 10 misses after: it stops at 10.
    with pytest.raises(Crash):
        _train(tmp_path, ScriptedDev(crash_at=10), patience=3)
    model, evaluation = _train(tmp_path, ScriptedDev(), patience=3)
    assert evaluation.evaluations_without_improvement() == 3 and int(model.optimizer.iterations) == 10
    straight_dev = ScriptedDev()
    _train(tmp_path / "straight", straight_dev, patience=3)
    _assert_weights(model, straight_dev.weights_at[4])


def test_bad_arguments_name_the_fix(tmp_path):
    steps = training_steps(num_examples=2, batch_size=2, num_epochs=1, warmup_proportion=0.0)
    with pytest.raises(ValueError, match="eval_steps=0"):
        DevEvaluation(ScriptedDev(), steps, str(tmp_path), eval_steps=0, metric="accuracy")
    with pytest.raises(ValueError, match="patience=0"):
        DevEvaluation(ScriptedDev(), steps, str(tmp_path), eval_steps=1, metric="accuracy", patience=0)
    with pytest.raises(ValueError, match=r"metric='f1' is not among the dev metrics \['accuracy', 'loss'\]"):
        _train(tmp_path, ScriptedDev(), metric="f1")
