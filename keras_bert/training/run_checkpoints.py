"""The training side of a run directory's checkpoints: restore on start, a manager to save, cleanup.

A run directory (`MODEL_DIR`) keeps `checkpoints/ckpt-N` (model, optimizer
and dropout seed states). Reading the newest readable one, and reading a
run directory as a checkpoint to fine-tune from, live in
`keras_bert.checkpoints.run_directory`.
"""

import os

import tensorflow as tf

from keras_bert.checkpoints.run_directory import CHECKPOINTS_SUBDIR, restore_latest
from keras_bert.training.distribution import is_chief, writable_dir


def restore_run(model, model_dir):
    """Restores a compiled model and its optimizer from the run's newest readable checkpoint.

    Returns:
        `(checkpoint, restored_path)`: the `tf.train.Checkpoint` over the model,
        optimizer and dropout seed states, and the path restored (None for a
        fresh run).

    Example:
    >>> import tempfile
    >>> import numpy as np
    >>> from keras_bert import BertClassifier, BertEncoder
    >>> from keras_bert.training import compile_classifier, resumable_fit
    >>> def classifier():  # the same architecture each time, as a restarted process builds it
    ...     model = BertClassifier(BertEncoder(vocab_size=23, hidden_size=8, num_layers=1,
    ...                                        num_attention_heads=2, intermediate_size=12), num_classes=2)
    ...     compile_classifier(model, learning_rate=1e-3, total_steps=2)
    ...     return model
    >>> run_dir = tempfile.mkdtemp()
    >>> _, restored = restore_run(classifier(), run_dir)
    >>> print(restored)  # nothing saved yet: a fresh run
    None
    >>> trained = classifier()
    >>> ids = np.ones((2, 5), "int32")
    >>> inputs = {"input_word_ids": ids, "input_mask": ids, "input_type_ids": 0 * ids}
    >>> dataset = tf.data.Dataset.from_tensors((inputs, np.array([0, 1]))).repeat()
    >>> _ = resumable_fit(trained, dataset.skip, run_dir, total_steps=2,
    ...                   steps_per_loop=1, save_checkpoints_steps=1)
    Epoch 1/2
    ...
    >>> model = classifier()  # freshly initialised, as after a restart
    >>> same_weights = lambda: all(np.array_equal(a, b) for a, b in zip(model.weights, trained.weights))
    >>> same_weights()
    False
    >>> _, restored = restore_run(model, run_dir)
    >>> os.path.basename(restored), int(model.optimizer.iterations), same_weights()
    ('ckpt-2', 2, True)
    """
    with model.distribute_strategy.scope():
        # Built now, so that the restore fills the slots rather than deferring.
        model.optimizer.build(model.trainable_variables)
    # Dropout's seed-generator states: Keras counts them among the model's
    # variables, but tf.train.Checkpoint does not reach them through the
    # layers. Saved too, a resumed run draws the masks the unbroken run would
    # have drawn instead of replaying those of step 1.
    dropout_seeds = [v for v in model.non_trainable_variables if v.path.endswith("seed_generator_state")]
    checkpoint = tf.train.Checkpoint(model=model, optimizer=model.optimizer, dropout_seeds=dropout_seeds)
    restored = restore_latest(tf.train.Checkpoint(model=model, optimizer=model.optimizer), model_dir)
    if restored:  # checkpoints from before the seeds were saved have none: those start the masks afresh
        tf.train.Checkpoint(dropout_seeds=dropout_seeds).read(restored).expect_partial()
    return checkpoint, restored


def _remove_cut_writes(directory):
    """Deletes `*_temp` folders: checkpoint writes a killed run left half done.

    Only the run itself writes there, so at its start none is in progress.
    TensorFlow reuses such a folder when it saves the same step again, but
    cannot remove it when the killed write left files of other names in it.
    """
    for path in tf.io.gfile.glob(os.path.join(directory, "*_temp")):
        tf.io.gfile.rmtree(path)


def run_checkpoint_manager(checkpoint, model_dir, strategy, max_checkpoints):
    """A `tf.train.CheckpointManager` saving `checkpoint` as `model_dir/checkpoints/ckpt-N`.

    The chief first removes the half-done writes of a killed run; other
    workers of a multi-worker strategy save to a scratch folder (see
    `writable_dir`). Keeps the newest `max_checkpoints`.
    """
    directory = os.path.join(model_dir, CHECKPOINTS_SUBDIR)
    if is_chief(strategy):
        _remove_cut_writes(directory)
    return tf.train.CheckpointManager(checkpoint, writable_dir(strategy, directory), max_to_keep=max_checkpoints)


def remove_finished_run(model_dir):
    """Deletes `model_dir` when it holds no checkpoints: the logs of a finished run, not one to resume."""
    if not tf.io.gfile.exists(os.path.join(model_dir, CHECKPOINTS_SUBDIR)) and tf.io.gfile.exists(model_dir):
        tf.io.gfile.rmtree(model_dir)


def remove_run_checkpoints(model_dir, strategy):
    """Deletes the run's checkpoints (the chief only), so the next run in `model_dir` starts afresh."""
    if is_chief(strategy):
        tf.io.gfile.rmtree(os.path.join(model_dir, CHECKPOINTS_SUBDIR))
