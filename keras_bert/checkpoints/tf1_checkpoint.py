"""Google's original release layout: `bert_config.json` + `bert_model.ckpt.*`."""

import os
import shutil
import tempfile

import tensorflow as tf

from keras_bert.checkpoints.bert_checkpoint import VOCAB_FILE, BertCheckpoint
from keras_bert.checkpoints.config_json import read_config_json, write_config_json
from keras_bert.checkpoints.errors import CheckpointError
from keras_bert.checkpoints.name_table import encoder_weights

CONFIG_FILE = "bert_config.json"
CHECKPOINT_PREFIX = "bert_model.ckpt"


def find_checkpoint_prefix(directory):
    """The TF1 checkpoint prefix in `directory`, or None.

    Prefers `bert_model.ckpt` (the release name), then what a `checkpoint`
    state file names, then the only `*.index` file.
    """
    if os.path.isfile(os.path.join(directory, CHECKPOINT_PREFIX + ".index")):
        return os.path.join(directory, CHECKPOINT_PREFIX)
    latest = tf.train.latest_checkpoint(directory)
    if latest:
        return latest
    indexes = sorted(f for f in os.listdir(directory) if f.endswith(".index"))
    if len(indexes) == 1:
        return os.path.join(directory, indexes[0][: -len(".index")])
    return None


def read_tf1_checkpoint(directory, prefix):
    """Reads a TF1 checkpoint and the `bert_config.json` in `directory`.

    Args:
        directory: str. Holds `bert_config.json` and maybe `vocab.txt`.
        prefix: str. The checkpoint prefix (`.../bert_model.ckpt`), as
            `find_checkpoint_prefix` finds it.

    Returns:
        A `BertCheckpoint`; its heads are the `cls/...` variables, if any.

    Raises:
        FileNotFoundError: `directory` has no `bert_config.json`.
        CheckpointError: the checkpoint files are unreadable or truncated.

    Example:
    >>> import tempfile
    >>> from keras_bert import BertEncoder
    >>> directory = tempfile.mkdtemp()
    >>> prefix = save_tf1_checkpoint(BertEncoder(vocab_size=23, hidden_size=8, num_layers=1,
    ...     num_attention_heads=2, intermediate_size=12), directory)
    >>> checkpoint = read_tf1_checkpoint(directory, prefix)
    >>> checkpoint.config.hidden_size, checkpoint.source == prefix
    (8, True)
    """
    config_path = os.path.join(directory, CONFIG_FILE)
    if not os.path.isfile(config_path):
        raise FileNotFoundError(
            f"The TF1 checkpoint {prefix!r} has no {CONFIG_FILE} beside it in "
            f"{directory!r}; put the bert_config.json it was trained with there."
        )
    config = read_config_json(config_path)
    return BertCheckpoint.from_google_weights(config, _read_variables(prefix), directory, prefix)


def _read_variables(prefix):
    try:
        reader = tf.train.load_checkpoint(prefix)
        return {name: reader.get_tensor(name) for name in reader.get_variable_to_shape_map()}
    except (tf.errors.OpError, ValueError, IndexError) as e:  # IndexError: truncated data
        message = getattr(e, "message", str(e)).strip().splitlines()[0]
        raise CheckpointError(
            f"Cannot read the TF1 checkpoint {prefix!r} ({message}). Check that "
            f"{prefix}.index and its .data-* shards are complete and not truncated."
        ) from None


def save_tf1_checkpoint(encoder, directory, vocab_file=None, extra_weights=None):
    """Writes an encoder in Google's original release layout.

    The directory gets `bert_config.json`, `bert_model.ckpt.index` and
    `bert_model.ckpt.data-00000-of-00001` with the original variable names and
    shapes (`bert/encoder/layer_0/attention/self/query/kernel`, ...), and a
    copy of `vocab_file` when given. The files are written beside and then
    renamed into place, so a reader never sees half a checkpoint.

    Args:
        encoder: a `BertEncoder`.
        directory: str. Created if missing.
        vocab_file: optional str, copied as `vocab.txt`.
        extra_weights: optional `{google_name: array}` written alongside, e.g.
            the pretraining heads `cls/predictions/...`.

    Returns:
        The checkpoint prefix, `directory/bert_model.ckpt`.

    Example:
    >>> import tempfile
    >>> from keras_bert import BertEncoder
    >>> encoder = BertEncoder(vocab_size=23, hidden_size=8, num_layers=1,
    ...                       num_attention_heads=2, intermediate_size=12)
    >>> prefix = save_tf1_checkpoint(encoder, tempfile.mkdtemp())
    >>> os.path.basename(prefix)
    'bert_model.ckpt'
    """
    os.makedirs(directory, exist_ok=True)
    weights = {**encoder_weights(encoder), **(extra_weights or {})}
    names = sorted(weights)
    with tempfile.TemporaryDirectory(dir=directory, prefix=".tmp-") as staging:
        tf.raw_ops.SaveV2(
            prefix=os.path.join(staging, CHECKPOINT_PREFIX),
            tensor_names=names,
            shape_and_slices=[""] * len(names),
            tensors=[tf.constant(weights[name]) for name in names],
        )
        write_config_json(encoder.config, os.path.join(staging, CONFIG_FILE), dialect="google")
        if vocab_file is not None:
            shutil.copyfile(vocab_file, os.path.join(staging, VOCAB_FILE))
        # The index last: until it is in place, no reader sees a checkpoint.
        staged = sorted(os.listdir(staging), key=lambda f: f.endswith(".index"))
        for filename in staged:
            os.replace(os.path.join(staging, filename), os.path.join(directory, filename))
    return os.path.join(directory, CHECKPOINT_PREFIX)
