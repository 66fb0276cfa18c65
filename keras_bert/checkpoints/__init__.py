"""Reading and writing BERT checkpoints: Google TF1, Hugging Face, `.keras`."""

from keras_bert.checkpoints.default_weights import default_checkpoint_path
from keras_bert.checkpoints.errors import CheckpointError
from keras_bert.checkpoints.loading import (
    BertCheckpoint,
    load_encoder,
    load_encoder_and_vocab,
    read_checkpoint,
)
from keras_bert.checkpoints.tf1_checkpoint import save_tf1_checkpoint

__all__ = [
    "BertCheckpoint",
    "CheckpointError",
    "default_checkpoint_path",
    "load_encoder",
    "load_encoder_and_vocab",
    "read_checkpoint",
    "save_tf1_checkpoint",
]
