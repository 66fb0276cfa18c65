"""keras_bert: BERT (Devlin et al., 2018) for TensorFlow and Keras 3."""

from keras_bert.checkpoints import (
    BertCheckpoint,
    CheckpointError,
    load_encoder,
    read_checkpoint,
    save_tf1_checkpoint,
)
from keras_bert.config import BertConfig
from keras_bert.layers import mean_pool
from keras_bert.models import BertEncoder

__version__ = "0.1.0"

__all__ = [
    "BertCheckpoint",
    "BertConfig",
    "BertEncoder",
    "CheckpointError",
    "load_encoder",
    "mean_pool",
    "read_checkpoint",
    "save_tf1_checkpoint",
]
