"""`resumable_fit`: `model.fit` for a step budget, with checkpoints that make runs resumable.

Pretraining (`run_pretraining.py`) and resumable fine-tuning (`fit_for_steps`
with a `run_dir`) both train through it.

A run directory (`MODEL_DIR`) holds `checkpoints/ckpt-N` (model, optimizer
and step, by `tf.train.CheckpointManager`), `logs/` (TensorBoard) and
`metrics.jsonl` (one line per `steps_per_loop` steps). Started again with
the same arguments, a run restores its newest readable checkpoint and goes
on from that step, with the input continuing where it stopped.
"""

import json
import math
import os
import sys
import time

import keras
import tensorflow as tf

from keras_bert.training.distribution import is_chief, writable_dir
from keras_bert.training.run_checkpoints import restore_run, run_checkpoint_manager


def optimizer_step(optimizer):
    """The optimizer's update count as an int.

    Example:
    >>> optimizer = keras.optimizers.SGD()
    >>> optimizer_step(optimizer)
    0

    `iterations` is a Keras variable, a MirroredVariable under MirroredStrategy,
    or already a tensor (LossScaleOptimizer under float16/bfloat16).
    """
    iterations = optimizer.iterations
    return int(tf.convert_to_tensor(getattr(iterations, "value", iterations)))


def shard_by_data(dataset):
    """`dataset` with tf.data's DATA auto-sharding, unless the caller chose a policy.

    Under MultiWorkerMirroredStrategy every worker then runs the whole
    pipeline and trains on its part of each global batch: the batches, their
    order, dynamic masks and a resumed run's skipped batches are those of a
    one-process run, whatever the number of workers. (The default FILE
    policy fails on fewer files than workers, and makes the data depend on
    the cluster's size.) Other strategies ignore the option.

    Example:
    >>> dataset = shard_by_data(tf.data.Dataset.range(4))
    >>> dataset.options().experimental_distribute.auto_shard_policy == tf.data.experimental.AutoShardPolicy.DATA
    True
    """
    policy = dataset.options().experimental_distribute.auto_shard_policy
    if policy != tf.data.experimental.AutoShardPolicy.AUTO:
        return dataset
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return dataset.with_options(options)


class _RunLog(keras.callbacks.Callback):
    """Adds `step`, `sequences_per_second` and `train_seconds` to each loop's logs and appends them to a
    JSON-lines file.

    `train_seconds` is the run's wall time so far, from its first `fit` (a resumed run goes on from the last
    logged value), less the time the evaluation spent: the x axis of a time-to-quality curve.
    """

    def __init__(self, path, batch_size, accumulation, evaluation=None):
        super().__init__()
        self.path, self.batch_size, self.accumulation = path, batch_size, accumulation
        self.evaluation = evaluation

    def on_train_begin(self, logs=None):
        self._fit_start, self._seconds_before = time.time(), 0.0
        start_step = optimizer_step(self.model.optimizer)
        if self.path and os.path.exists(self.path):
            with open(self.path) as f:
                rows = [json.loads(line) for line in f if line.strip()]
            earlier = [row["train_seconds"] for row in rows if "train_seconds" in row and row["step"] <= start_step]
            self._seconds_before = earlier[-1] if earlier else 0.0

    def on_epoch_begin(self, epoch, logs=None):
        self._start, self._start_step = time.time(), optimizer_step(self.model.optimizer)

    def on_train_batch_end(self, batch, logs=None):
        # The loop's end: evaluation at the end of a loop comes after this.
        self._last_batch_end = time.time()
        self._evaluating = self.evaluation.seconds if self.evaluation is not None else 0.0

    def on_epoch_end(self, epoch, logs=None):
        step = optimizer_step(self.model.optimizer)
        elapsed = self._last_batch_end - self._start
        logs["step"] = step
        if self.batch_size:
            logs["sequences_per_second"] = (step - self._start_step) * self.batch_size * self.accumulation / elapsed
        logs["train_seconds"] = self._seconds_before + self._last_batch_end - self._fit_start - self._evaluating
        if self.path:
            with open(self.path, "a") as f:
                f.write(json.dumps({k: float(v) for k, v in logs.items()}) + "\n")


class _SaveAndStop(keras.callbacks.Callback):
    """Saves every `save_steps` updates, at each evaluation and at the end; stops at `total_steps`, on a
    non-finite loss, or when an evaluation stopped training early."""

    def __init__(self, manager, save_steps, total_steps, eval_steps=None):
        super().__init__()
        self.manager, self.save_steps, self.total_steps = manager, save_steps, total_steps
        self.eval_steps = eval_steps
        self.bad_loss = None  # (step, loss) once the loss is NaN or infinite

    def on_train_batch_end(self, batch, logs=None):
        step = optimizer_step(self.model.optimizer)
        loss = float((logs or {}).get("loss", 0.0))
        if not math.isfinite(loss):
            self.bad_loss = (step, loss)
            self.model.stop_training = True
        elif step >= self.total_steps:
            self.model.stop_training = True

    def on_epoch_end(self, epoch, logs=None):
        step = optimizer_step(self.model.optimizer)
        evaluated = self.eval_steps and step % self.eval_steps == 0
        if self.bad_loss is None and (step % self.save_steps == 0 or evaluated or step >= self.total_steps
                                      or self.model.stop_training):
            self.manager.save(checkpoint_number=step)


def resumable_fit(
    model,
    make_dataset,
    model_dir,
    total_steps,
    batch_size=None,
    steps_per_loop=100,
    save_checkpoints_steps=1000,
    max_checkpoints=5,
    evaluation=None,
):
    """Trains a compiled model for `total_steps` optimizer updates, resumably.

    Args:
        model: a compiled Keras model (a `BertPretrainer`, a fine-tuning
            model), built in the strategy's scope.
        make_dataset: `make_dataset(skip_batches)` returns the endless
            training dataset with its first `skip_batches` batches skipped,
            so that a resumed run reads on from where it stopped.
        model_dir: str. The run directory.
        total_steps: int. Optimizer updates of the whole run.
        batch_size: optional int. Global batch size, for the logged
            `sequences_per_second`.
        steps_per_loop: int. Updates between log lines (one Keras epoch).
        save_checkpoints_steps: int. A multiple of `steps_per_loop`.
        max_checkpoints: int. Newest checkpoints kept.
        evaluation: optional `DevEvaluation`. Runs first at the end of each
            loop (so its scores reach the logs), and every step it
            evaluates is also checkpointed. Its `eval_steps` must be a
            multiple of `steps_per_loop`.

    Returns:
        The step the run started from (0 for a fresh run).

    Raises:
        FloatingPointError: the loss became NaN or infinite; nothing is saved
            after that, so the newest checkpoint is the last good one.

    Example: any compiled model trains this way (here a tiny classifier);
    started again, the finished run has nothing left to do.

    >>> import tempfile
    >>> import numpy as np
    >>> from keras_bert import BertClassifier, BertEncoder
    >>> from keras_bert.training import compile_classifier
    >>> encoder = BertEncoder(vocab_size=23, hidden_size=8, num_layers=1,
    ...                       num_attention_heads=2, intermediate_size=12)
    >>> model = BertClassifier(encoder, num_classes=2)
    >>> compile_classifier(model, learning_rate=1e-3, total_steps=2)
    >>> ids = np.ones((2, 5), "int32")
    >>> inputs = {"input_word_ids": ids, "input_mask": ids, "input_type_ids": 0 * ids}
    >>> dataset = tf.data.Dataset.from_tensors((inputs, np.array([0, 1]))).repeat()
    >>> run_dir = tempfile.mkdtemp()
    >>> resumable_fit(model, dataset.skip, run_dir, total_steps=2, steps_per_loop=1, save_checkpoints_steps=1)
    Epoch 1/2
    ...
    0
    >>> sorted(os.listdir(run_dir)), sorted(os.listdir(os.path.join(run_dir, "checkpoints")))
    (['checkpoints', 'logs', 'metrics.jsonl'],
     ['checkpoint', 'ckpt-1.data-00000-of-00001', 'ckpt-1.index',
      'ckpt-2.data-00000-of-00001', 'ckpt-2.index'])
    >>> with open(os.path.join(run_dir, "metrics.jsonl")) as f:
    ...     logs = [json.loads(line) for line in f]
    >>> [log["step"] for log in logs], sorted(logs[0])
    ([1.0, 2.0], ['accuracy', 'loss', 'step', 'train_seconds'])
    >>> resumable_fit(model, dataset.skip, run_dir, total_steps=2, steps_per_loop=1, save_checkpoints_steps=1)
    Resuming from .../checkpoints/ckpt-2 at step 2 of 2.
    /... already holds step 2; nothing to train.
    2
    """
    if save_checkpoints_steps % steps_per_loop:
        raise ValueError(
            f"save_checkpoints_steps={save_checkpoints_steps} must be a multiple of "
            f"steps_per_loop={steps_per_loop}."
        )
    strategy = model.distribute_strategy  # the scope the model was built in
    optimizer = model.optimizer
    checkpoint, restored = restore_run(model, model_dir)
    start_step = optimizer_step(optimizer)
    if restored:
        print(f"Resuming from {restored} at step {start_step} of {total_steps}.")
    if start_step >= total_steps:
        print(f"{model_dir} already holds step {start_step}; nothing to train.")
        return start_step
    chief = is_chief(strategy)
    manager = run_checkpoint_manager(checkpoint, model_dir, strategy, max_checkpoints)
    # float16 wraps the optimizer in a LossScaleOptimizer; the settings are inside.
    accumulation = getattr(optimizer, "inner_optimizer", optimizer).gradient_accumulation_steps or 1
    if evaluation is not None and evaluation.eval_steps % steps_per_loop:
        raise ValueError(f"The evaluation's eval_steps={evaluation.eval_steps} must be a multiple of "
                         f"steps_per_loop={steps_per_loop}.")
    saver = _SaveAndStop(manager, save_checkpoints_steps, total_steps, evaluation and evaluation.eval_steps)
    callbacks = [evaluation] if evaluation is not None else []
    callbacks += [
        _RunLog(os.path.join(model_dir, "metrics.jsonl") if chief else None, batch_size, accumulation, evaluation),
        keras.callbacks.TensorBoard(writable_dir(strategy, os.path.join(model_dir, "logs"))),
        saver,
    ]
    model.fit(
        shard_by_data(make_dataset(start_step * accumulation)),
        initial_epoch=start_step // steps_per_loop,
        epochs=math.ceil(total_steps / steps_per_loop),
        steps_per_epoch=steps_per_loop * accumulation,
        callbacks=callbacks,
        shuffle=False,
        verbose=1 if sys.stdout.isatty() else 2,
    )
    if saver.bad_loss:
        step, loss = saver.bad_loss
        raise FloatingPointError(
            f"The training loss became {loss} at step {step}; stopped without saving. The newest "
            f"checkpoint ({manager.latest_checkpoint or 'none yet'}) is the last good one: restart from it "
            "with a lower peak learning rate (or more warmup steps, or float32)."
        )
    return start_step
