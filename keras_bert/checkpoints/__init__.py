"""Reading and writing BERT checkpoints: Google TF1, Hugging Face, `.keras`, run directories."""

from keras_bert.checkpoints.default_weights import default_checkpoint_path, default_vocab_file
from keras_bert.checkpoints.errors import CheckpointError
from keras_bert.checkpoints.loading import (
    BertCheckpoint,
    check_vocab_fits,
    encoder_from_checkpoint,
    load_encoder,
    load_encoder_and_vocab,
    read_checkpoint,
)
from keras_bert.checkpoints.tf1_checkpoint import save_tf1_checkpoint

__all__ = [
    "BertCheckpoint",
    "CheckpointError",
    "check_vocab_fits",
    "default_checkpoint_path",
    "default_vocab_file",
    "encoder_from_checkpoint",
    "load_encoder",
    "load_encoder_and_vocab",
    "read_checkpoint",
    "save_tf1_checkpoint",
]
