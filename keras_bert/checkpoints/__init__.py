"""Reading and writing BERT checkpoints: Google TF1, Hugging Face, `.keras`, run directories."""

from keras_bert.checkpoints.bert_checkpoint import BertCheckpoint
from keras_bert.checkpoints.config_json import read_config_json, write_config_json
from keras_bert.checkpoints.errors import CheckpointError
from keras_bert.checkpoints.loading import (
    check_vocab_fits,
    load_encoder,
    load_encoder_and_vocab,
    read_checkpoint,
)
from keras_bert.checkpoints.name_table import head_weights, load_head_weights
from keras_bert.checkpoints.tf1_checkpoint import save_tf1_checkpoint
from keras_bert.presets.default_weights import default_checkpoint_path, default_vocab_file

__all__ = [
    "BertCheckpoint",
    "CheckpointError",
    "check_vocab_fits",
    "default_checkpoint_path",
    "default_vocab_file",
    "head_weights",
    "load_encoder",
    "load_encoder_and_vocab",
    "load_head_weights",
    "read_checkpoint",
    "read_config_json",
    "save_tf1_checkpoint",
    "write_config_json",
]
