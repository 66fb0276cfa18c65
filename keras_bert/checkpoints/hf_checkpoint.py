"""Hugging Face layout: `config.json` + `model.safetensors` or `pytorch_model.bin`."""

import os

from keras_bert.checkpoints.bert_checkpoint import BertCheckpoint
from keras_bert.checkpoints.config_json import read_config_json
from keras_bert.checkpoints.errors import CheckpointError
from keras_bert.checkpoints.name_table import google_weights_from_hf

CONFIG_FILE = "config.json"
WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")


def find_weight_file(directory):
    """The Hugging Face weight file in `directory` (safetensors first), or None."""
    for filename in WEIGHT_FILES:
        path = os.path.join(directory, filename)
        if os.path.isfile(path):
            return path
    return None


def read_hf_checkpoint(directory, weight_file):
    """Reads a Hugging Face BERT weight file and the `config.json` in `directory`.

    Weights are renamed and reshaped to Google's names and shapes; the heads
    of a `BertForPreTraining` become `cls/...`.

    Args:
        directory: str. Holds `config.json` and maybe `vocab.txt`.
        weight_file: str. `model.safetensors` or `pytorch_model.bin` (which
            needs PyTorch), as `find_weight_file` finds it.

    Returns:
        A `BertCheckpoint`.

    Raises:
        FileNotFoundError: `directory` has no `config.json`.
        CheckpointError: the weight file is unreadable.

    Example: the embedded all-MiniLM-L6-v2 (a Hugging Face directory).

    >>> from keras_bert.checkpoints import default_checkpoint_path
    >>> directory = default_checkpoint_path()
    >>> checkpoint = read_hf_checkpoint(directory, find_weight_file(directory))
    >>> checkpoint.config.num_layers, checkpoint.weights["bert/encoder/layer_0/attention/self/query/kernel"].shape
    (6, (384, 384))
    >>> os.path.basename(checkpoint.source), os.path.basename(checkpoint.vocab_file)
    ('model.safetensors', 'vocab.txt')
    """
    config_path = os.path.join(directory, CONFIG_FILE)
    if not os.path.isfile(config_path):
        raise FileNotFoundError(
            f"{weight_file} has no {CONFIG_FILE} beside it; a Hugging Face BERT directory needs both."
        )
    config = read_config_json(config_path)
    if weight_file.endswith(".safetensors"):
        hf_weights = _read_safetensors(weight_file)
    else:
        hf_weights = _read_torch_pickle(weight_file)
    return BertCheckpoint.from_google_weights(config, google_weights_from_hf(hf_weights), directory, weight_file)


def _read_safetensors(path):
    try:
        from safetensors.numpy import load_file
    except ImportError:
        raise ImportError(
            f"Reading {path} needs the safetensors package: pip install safetensors"
        ) from None
    try:
        return load_file(path)
    except Exception as e:  # safetensors raises its own error types.
        raise CheckpointError(
            f"Cannot read {path} ({e}); the file is truncated or not safetensors."
        ) from None


def _read_torch_pickle(path):
    try:
        import torch
    except ImportError:
        raise ImportError(
            f"Reading {path} needs PyTorch (pip install torch), or convert the "
            "checkpoint to model.safetensors, which keras_bert reads without it."
        ) from None
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # torch raises many error types for bad files.
        raise CheckpointError(f"Cannot read {path} ({e}).") from None
    return {name: tensor.float().numpy() for name, tensor in state.items()}
