"""Training checkpoints of a run directory (`MODEL_DIR/checkpoints/ckpt-N`).

`run_pretraining.py` saves the pretrainer and its optimizer there with
`tf.train.CheckpointManager`; `read_checkpoint(MODEL_DIR)` reads the latest
one through this module, so a run can be fine-tuned from while it trains.
"""

import os

import tensorflow as tf
from absl import logging

from keras_bert.checkpoints.errors import CheckpointError

CHECKPOINTS_SUBDIR = "checkpoints"


def is_run_directory(directory):
    """Whether `directory` holds training checkpoints of ours."""
    return os.path.isfile(os.path.join(directory, CHECKPOINTS_SUBDIR, "checkpoint"))


def checkpoint_paths(directory):
    """The run's checkpoint prefixes, newest first."""
    state = tf.train.get_checkpoint_state(os.path.join(directory, CHECKPOINTS_SUBDIR))
    return list(reversed(state.all_model_checkpoint_paths)) if state else []


def restore_latest(checkpoint, directory):
    """Restores the newest readable checkpoint of a run into `checkpoint`.

    A newest checkpoint that cannot be read (a truncated file, a killed
    write) is skipped with a warning and the one before it is used.

    Args:
        checkpoint: a `tf.train.Checkpoint` over the objects to restore.
        directory: the run directory (`MODEL_DIR`).

    Returns:
        The restored prefix, or None when the run has no checkpoint yet.
    """
    paths = checkpoint_paths(directory)
    for path in paths:
        try:
            checkpoint.read(path).assert_existing_objects_matched().expect_partial()
            return path
        except Exception as e:  # a damaged file fails in TF (OpError), in Python (IndexError), ...
            message = getattr(e, "message", str(e)).strip().splitlines()[0]
            logging.warning("Checkpoint %s is unreadable (%s); trying the one before it.", path, message)
    if paths:
        raise CheckpointError(f"No checkpoint in {directory}/{CHECKPOINTS_SUBDIR} can be read.")
    return None


def read_run_directory(directory):
    """The latest readable checkpoint of a run directory, heads included, as a `BertCheckpoint`."""
    from keras_bert.checkpoints.bert_checkpoint import BertCheckpoint
    from keras_bert.checkpoints.config_json import read_config_json
    from keras_bert.checkpoints.name_table import encoder_weights, head_weights
    from keras_bert.models import BertPretrainer, BertEncoder

    config_path = os.path.join(directory, "bert_config.json")
    if not os.path.isfile(config_path):
        raise FileNotFoundError(f"The run directory {directory} has no bert_config.json.")
    config = read_config_json(config_path)
    pretrainer = BertPretrainer(BertEncoder.from_bert_config(config))
    path = restore_latest(tf.train.Checkpoint(model=pretrainer), directory)
    if path is None:
        raise CheckpointError(f"The run directory {directory} has no checkpoint yet.")
    weights = {**encoder_weights(pretrainer.encoder), **head_weights(pretrainer)}
    return BertCheckpoint.from_google_weights(config, weights, directory, path)
