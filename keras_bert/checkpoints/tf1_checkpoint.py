"""Google's original release layout: `bert_config.json` + `bert_model.ckpt.*`."""

import os
import shutil
import tempfile

import tensorflow as tf

from keras_bert.checkpoints.errors import CheckpointError
from keras_bert.checkpoints.name_table import encoder_weights

CONFIG_FILE = "bert_config.json"
CHECKPOINT_PREFIX = "bert_model.ckpt"
VOCAB_FILE = "vocab.txt"


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


def read_tf1_weights(prefix):
    """Reads every variable of a TF1 checkpoint into `{name: numpy array}`."""
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
        encoder.config.to_json_file(os.path.join(staging, CONFIG_FILE), dialect="google")
        if vocab_file is not None:
            shutil.copyfile(vocab_file, os.path.join(staging, VOCAB_FILE))
        # The index last: until it is in place, no reader sees a checkpoint.
        staged = sorted(os.listdir(staging), key=lambda f: f.endswith(".index"))
        for filename in staged:
            os.replace(os.path.join(staging, filename), os.path.join(directory, filename))
    return os.path.join(directory, CHECKPOINT_PREFIX)
