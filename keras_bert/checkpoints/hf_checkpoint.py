"""Hugging Face layout: `config.json` + `model.safetensors` or `pytorch_model.bin`."""

import os

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


def read_hf_weights(path):
    """Reads a Hugging Face BERT weight file into `{google_name: array}`."""
    if path.endswith(".safetensors"):
        hf_weights = _read_safetensors(path)
    else:
        hf_weights = _read_torch_pickle(path)
    return google_weights_from_hf(hf_weights)


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
