"""The two layouts checkpoints are released in: Google's (TF1 checkpoint) and Hugging Face's."""

import os

from keras_bert.checkpoints.errors import CheckpointError
from keras_bert.checkpoints.hf_checkpoint import find_weight_file, read_hf_checkpoint
from keras_bert.checkpoints.tf1_checkpoint import find_checkpoint_prefix, read_tf1_checkpoint
from keras_bert.presets import checkpoint_path

RELEASE_LAYOUTS = (
    "Google's release layout (a directory with bert_config.json and bert_model.ckpt.index/.data-*, or the "
    "checkpoint prefix itself) or Hugging Face's (a directory with config.json and model.safetensors or "
    "pytorch_model.bin)"
)


def read_preset_checkpoint(preset):
    """Reads a preset (name, `hf://`, URL, `gs://` or local release directory), downloading it once.

    Example:
    >>> from keras_bert.checkpoints import default_checkpoint_path
    >>> read_preset_checkpoint(default_checkpoint_path()).config.hidden_size
    384
    """
    return read_release_checkpoint(checkpoint_path(preset))


def read_release_checkpoint(path, accepted=RELEASE_LAYOUTS):
    """Reads a local checkpoint in Google's or Hugging Face's layout into a `BertCheckpoint`.

    Args:
        path: str. A directory in either layout, or a TF1 checkpoint prefix.
        accepted: str. The layouts the caller accepts, for the error message.

    Raises:
        FileNotFoundError: nothing at `path`.
        CheckpointError: `path` is in neither layout (naming what it holds).

    Example:
    >>> from keras_bert.checkpoints import default_checkpoint_path
    >>> read_release_checkpoint(default_checkpoint_path()).config.num_layers
    6
    """
    path = os.fspath(path)
    if os.path.isfile(path + ".index"):
        return read_tf1_checkpoint(os.path.dirname(path) or ".", path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"No checkpoint at {path!r}: it does not exist. Accepted: {accepted}.")
    if not os.path.isdir(path):
        raise CheckpointError(f"{path!r} is not a BERT checkpoint. Accepted: {accepted}.")
    prefix = find_checkpoint_prefix(path)
    if prefix is not None:
        return read_tf1_checkpoint(path, prefix)
    weight_file = find_weight_file(path)
    if weight_file is not None:
        return read_hf_checkpoint(path, weight_file)
    found = sorted(os.listdir(path))[:20]
    raise CheckpointError(f"Unknown checkpoint layout in {path!r} (it holds {found}). Accepted: {accepted}.")
