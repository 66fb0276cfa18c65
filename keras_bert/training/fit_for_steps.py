"""`fit_for_steps`: trains a compiled fine-tuning model for its `TrainingSteps`, resumably with a `run_dir`."""

import sys
import time

import keras

from keras_bert.training.dev_evaluation import run_loop_steps
from keras_bert.training.resumable_fit import resumable_fit
from keras_bert.training.run_checkpoints import remove_finished_run, remove_run_checkpoints


def fit_for_steps(model, dataset, steps, run_dir=None, save_checkpoints_steps=None, evaluation=None):
    """Trains a compiled model for `steps` (a `TrainingSteps`); returns the seconds taken.

    Args:
        model: a compiled Keras model.
        dataset: an endless (`.repeat()`ed) dataset that reshuffles itself
            with a fixed seed, so Keras' own shuffling is off and the batch
            sequence is the same on every run.
        steps: `TrainingSteps`.
        run_dir: optional str. Makes the run resumable: model and optimizer
            are checkpointed under `run_dir/checkpoints` (with
            `metrics.jsonl` and TensorBoard `logs/` beside), and a restart
            after a crash or kill resumes from the newest complete
            checkpoint, skipping the batches already trained on. The
            checkpoints are deleted once training completes, so the next run
            in the same place starts afresh.
        save_checkpoints_steps: int. With `run_dir`: steps between
            checkpoints (and log lines). Defaults to once per epoch.
        evaluation: optional `DevEvaluation` (needs `run_dir`). Scores the
            dev data during training; at the end the model holds the best
            evaluation's weights (`evaluation.best` says which).

    A progress bar on a terminal, one line per epoch (or per
    `save_checkpoints_steps`) otherwise. Trains on the strategy the model
    was built under (see `get_strategy`).

    Example:
    >>> import numpy as np
    >>> import tensorflow as tf
    >>> from keras_bert import BertClassifier, BertEncoder
    >>> from keras_bert.training import compile_classifier, training_steps
    >>> encoder = BertEncoder(vocab_size=23, hidden_size=8, num_layers=1,
    ...                       num_attention_heads=2, intermediate_size=12)
    >>> classifier = BertClassifier(encoder, num_classes=2)
    >>> ids = np.ones((4, 5), "int32")
    >>> inputs = {"input_word_ids": ids, "input_mask": ids, "input_type_ids": 0 * ids}
    >>> dataset = tf.data.Dataset.from_tensor_slices((inputs, np.array([0, 1, 0, 1]))).batch(2).repeat()
    >>> steps = training_steps(num_examples=4, batch_size=2, num_epochs=1, warmup_proportion=0.0)
    >>> compile_classifier(classifier, learning_rate=1e-3, total_steps=steps.total_steps)
    >>> seconds = fit_for_steps(classifier, dataset, steps)
    DefaultDistributionStrategy with 1 replica(s), dtype policy float32.
    2/2 - ...
    >>> int(classifier.optimizer.iterations), seconds > 0
    (2, True)
    """
    strategy = model.distribute_strategy
    print(f"{type(strategy).__name__.lstrip('_')} with {strategy.num_replicas_in_sync} replica(s), "
          f"dtype policy {keras.mixed_precision.global_policy().name}.")
    start = time.time()
    if run_dir is None:
        if evaluation is not None:
            raise ValueError("fit_for_steps: evaluation needs a run_dir for the best model and its checkpoints.")
        model.fit(
            dataset,
            epochs=steps.epochs,
            steps_per_epoch=min(steps.steps_per_epoch, steps.total_steps),
            shuffle=False,
            verbose=1 if sys.stdout.isatty() else 2,
        )
        return time.time() - start
    remove_finished_run(run_dir)
    save_every = min(save_checkpoints_steps or steps.steps_per_epoch, steps.total_steps)
    loop = run_loop_steps(save_every, evaluation and evaluation.eval_steps, steps.total_steps)
    resumable_fit(model, dataset.skip, run_dir, steps.total_steps, steps_per_loop=loop,
                  save_checkpoints_steps=save_every, evaluation=evaluation)
    if evaluation is not None:
        best = evaluation.restore_best()
        print(f"Kept the model of step {best['step']} (epoch {best['epoch']:g}): {evaluation.metric} = "
              f"{best['metrics'][evaluation.metric]:.4f}.")
    remove_run_checkpoints(run_dir, strategy)
    return time.time() - start

