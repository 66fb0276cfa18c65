"""`DevEvaluation`: scores the dev data during training, keeps the best model, stops early; survives restarts."""

import io
import json
import math
import os
import time

import keras
import numpy as np
import tensorflow as tf

from keras_bert.training.distribution import writable_dir
from keras_bert.training.resumable_fit import optimizer_step

EVALUATION_STRATEGIES = ("no", "steps", "epoch")


class DevEvaluation(keras.callbacks.Callback):
    """Scores the dev data every `eval_steps` updates; keeps the best model; stops after `patience` misses.

    Keras' `EarlyStopping` and `ModelCheckpoint(save_best_only=True)` keep
    their best-so-far in memory and expect the metric after every epoch; a
    fine-tuning run here is resumable (see `fit_for_steps`) and evaluates
    less often than it logs. So this callback writes each evaluation to
    `directory/evaluations.jsonl` and the best weights to
    `directory/best-STEP.weights.npz`; a restarted run reads back the
    evaluations up to the step it resumes from, with the same best and the
    same count of evaluations without improvement. `fit_for_steps` saves a
    checkpoint at every evaluation step, so the two always agree.

    The scores of each evaluation are added to the epoch logs as
    `eval_NAME`, so the run's `metrics.jsonl` and TensorBoard show them.

    Args:
        evaluate: `evaluate(model)` returns `{metric name: float}` on the
            dev data.
        steps: the run's `TrainingSteps`.
        directory: str. Where the evaluations and best weights go
            (fit_for_steps callers use `RUN_DIR/best_model`).
        eval_steps: int. Updates between evaluations; the last update is
            always evaluated too.
        metric: the name (a key of `evaluate`'s result) that picks the best
            model. Names ending in `loss` are minimised, others maximised.
        patience: optional int. Stop training after this many evaluations
            in a row without a better `metric`.
        keep_best: bool. Save the best weights (False: only score and log,
            as pretraining's held-out curve does; `restore_best` then
            returns None).

    Attributes:
        best: after training, `{"step", "epoch", "metrics"}` of the best
            evaluation (None before the first).
        seconds: wall time spent evaluating (and saving) in this `fit`, so
            a run's log can leave it out of its training time.

    Example: evaluate every 2 steps, keep the best; `fit_for_steps` restores it.
    >>> import tempfile
    >>> import numpy as np
    >>> from keras_bert import BertClassifier, BertEncoder
    >>> from keras_bert.training import compile_classifier, fit_for_steps, training_steps
    >>> encoder = BertEncoder(vocab_size=23, hidden_size=8, num_layers=1,
    ...                       num_attention_heads=2, intermediate_size=12)
    >>> model = BertClassifier(encoder, num_classes=2)
    >>> ids = np.ones((4, 5), "int32")
    >>> inputs = {"input_word_ids": ids, "input_mask": ids, "input_type_ids": 0 * ids}
    >>> dataset = tf.data.Dataset.from_tensor_slices((inputs, np.array([0, 1, 0, 1]))).batch(2).repeat()
    >>> steps = training_steps(num_examples=4, batch_size=2, num_epochs=2, warmup_proportion=0.0)
    >>> compile_classifier(model, learning_rate=1e-3, total_steps=steps.total_steps)
    >>> def evaluate(model):  # any dev score; here minus the distance of the bias from 0.01
    ...     return {"score": -abs(float(model.weights[-1].numpy()[0]) - 0.01)}
    >>> run_dir = tempfile.mkdtemp()
    >>> evaluation = DevEvaluation(evaluate, steps, os.path.join(run_dir, "best_model"), eval_steps=1,
    ...                            metric="score")
    >>> _ = fit_for_steps(model, dataset, steps, run_dir=run_dir, evaluation=evaluation)
    DefaultDistributionStrategy ...
    >>> sorted(evaluation.best), evaluation.best["metrics"] == evaluate(model)
    (['epoch', 'metrics', 'step'], True)
    """

    def __init__(self, evaluate, steps, directory, eval_steps, metric, patience=None, keep_best=True):
        super().__init__()
        if eval_steps < 1:
            raise ValueError(f"eval_steps={eval_steps}; evaluate at least every 1 step.")
        if patience is not None and patience < 1:
            raise ValueError(f"patience={patience}; use at least 1, or None to never stop early.")
        self.evaluate, self.steps, self.directory = evaluate, steps, directory
        self.eval_steps, self.metric, self.patience = eval_steps, metric, patience
        self.keep_best = keep_best
        self.seconds = 0.0
        self.history = []  # one {"step", "epoch", "metrics"} per evaluation, in step order
        self._write_dir = None

    @property
    def greater_is_better(self):
        return not self.metric.endswith("loss")

    @property
    def best(self):
        if not self.history:
            return None
        pick = max if self.greater_is_better else min
        # max/min return the first of equal scores: a later tie is no improvement.
        return pick(self.history, key=lambda entry: entry["metrics"][self.metric])

    def evaluations_without_improvement(self):
        best_step = self.best["step"] if self.history else 0
        return sum(entry["step"] > best_step for entry in self.history)

    def _path(self, name):
        return os.path.join(self._write_dir, name)

    def _weights_path(self, step):
        return self._path(f"best-{step}.weights.npz")

    def on_train_begin(self, logs=None):
        # The run directory may have just been cleared for a fresh run: read the state now, not at construction.
        if self._write_dir is None:
            self._write_dir = writable_dir(self.model.distribute_strategy, self.directory)
        tf.io.gfile.makedirs(self._write_dir)
        start_step = optimizer_step(self.model.optimizer)
        self.history = []
        if tf.io.gfile.exists(self._path("evaluations.jsonl")):
            with tf.io.gfile.GFile(self._path("evaluations.jsonl")) as f:
                entries = [json.loads(line) for line in f if line.strip()]
            # Evaluations after the restored checkpoint are redone as the run trains through them again.
            self.history = [entry for entry in entries if entry["step"] <= start_step]
        self.seconds = 0.0
        if self.keep_best and self.history and not tf.io.gfile.exists(self._weights_path(self.best["step"])):
            print(f"DevEvaluation: the best weights of step {self.best['step']} are gone from {self._write_dir}; "
                  "choosing the best among the evaluations from here on.")
            self.history = []
        self._write_history()
        if self.history:
            best = self.best
            print(f"Best so far: {self.metric} = {best['metrics'][self.metric]:.4f} at step {best['step']} "
                  f"({len(self.history)} evaluations).")
            if self.patience and self.evaluations_without_improvement() >= self.patience:
                self.model.stop_training = True  # killed after stopping early, before the run was closed

    def on_epoch_end(self, epoch, logs=None):
        step = optimizer_step(self.model.optimizer)
        if step % self.eval_steps and step < self.steps.total_steps:
            return
        if self.history and self.history[-1]["step"] == step:
            return  # already scored, e.g. the last step when it is also an evaluation step
        start = time.time()
        try:
            self._evaluate(step, logs)
        finally:
            self.seconds += time.time() - start

    def _evaluate(self, step, logs):
        metrics = {name: float(value) for name, value in self.evaluate(self.model).items()}
        if self.metric not in metrics:
            raise ValueError(f"metric={self.metric!r} is not among the dev metrics {sorted(metrics)}; "
                             "choose one of them.")
        previous_best = self.best
        entry = {"step": step, "epoch": round(step / self.steps.steps_per_epoch, 4), "metrics": metrics}
        self.history.append(entry)
        if logs is not None:
            logs.update({f"eval_{name}": value for name, value in metrics.items()})
        value = metrics[self.metric]
        if not self.keep_best:
            self._write_history()
            print(f"Step {step}: " + ", ".join(f"{name} {score:.4f}" for name, score in metrics.items()))
        elif self.best is entry:
            self._save_weights(self._weights_path(step))
            self._write_history()
            # Keep the previous best too: the checkpoint before this one still names it.
            self._remove_weights(keep={step, previous_best["step"] if previous_best else step})
            print(f"Step {step}: {self.metric} = {value:.4f}, the best so far; kept.")
        else:
            self._write_history()
            misses = self.evaluations_without_improvement()
            print(f"Step {step}: {self.metric} = {value:.4f}; best {self.best['metrics'][self.metric]:.4f} at "
                  f"step {self.best['step']} ({misses} evaluation(s) without improvement).")
            if self.patience and misses >= self.patience:
                print(f"Early stopping at step {step}: {misses} evaluations without a better {self.metric}.")
                self.model.stop_training = True

    def _write_history(self):
        temporary = self._path("evaluations.jsonl.partial")
        with tf.io.gfile.GFile(temporary, "w") as f:
            f.write("".join(json.dumps(entry) + "\n" for entry in self.history))
        tf.io.gfile.rename(temporary, self._path("evaluations.jsonl"), overwrite=True)

    def _remove_weights(self, keep):
        for path in tf.io.gfile.glob(self._path("best-*.weights.npz")):
            if int(os.path.basename(path)[len("best-"):-len(".weights.npz")]) not in keep:
                tf.io.gfile.remove(path)

    def restore_best(self):
        """Loads the best evaluation's weights into the model and deletes the weight files; returns `best`."""
        best = self.best
        if best is None or not self.keep_best:
            return None
        with tf.io.gfile.GFile(self._weights_path(best["step"]), "rb") as f:
            arrays = np.load(io.BytesIO(f.read()))
        for variable, name in zip(self.model.weights, arrays.files):
            variable.assign(arrays[name])
        self._remove_weights(keep=set())
        return best

    def _save_weights(self, path):
        # The model's weights only, in `model.weights` order: Keras' save_weights would add the optimizer's
        # slots (three times the size), and the model kept should not rewind the optimizer.
        buffer = io.BytesIO()  # np.savez seeks, which a GFile opened for writing cannot
        np.savez(buffer, *[np.asarray(variable) for variable in self.model.weights])
        with tf.io.gfile.GFile(path + ".partial", "wb") as f:
            f.write(buffer.getvalue())
        tf.io.gfile.rename(path + ".partial", path, overwrite=True)


def evaluation_interval(strategy, eval_steps, steps):
    """Updates between evaluations for `--evaluation_strategy` (`no`, `steps`, `epoch`); None for `no`.

    Example:
    >>> from keras_bert.training import training_steps
    >>> steps = training_steps(num_examples=100, batch_size=10, num_epochs=3, warmup_proportion=0.1)
    >>> evaluation_interval("epoch", None, steps), evaluation_interval("steps", 4, steps)
    (10, 4)
    >>> print(evaluation_interval("no", None, steps))
    None
    """
    if strategy not in EVALUATION_STRATEGIES:
        raise ValueError(f"evaluation_strategy={strategy!r}; use one of {', '.join(EVALUATION_STRATEGIES)}.")
    if strategy == "no":
        return None
    if strategy == "epoch":
        return steps.steps_per_epoch
    if not eval_steps:
        raise ValueError("evaluation_strategy='steps' needs eval_steps, the updates between evaluations.")
    return eval_steps


def run_loop_steps(save_every, eval_every, total_steps):
    """Steps per Keras epoch of a resumable run: every checkpoint step and evaluation step ends one.

    Example:
    >>> run_loop_steps(save_every=100, eval_every=30, total_steps=1000), run_loop_steps(100, None, 50)
    (10, 50)
    """
    loop = math.gcd(save_every, eval_every) if eval_every else save_every
    return min(loop, total_steps)
