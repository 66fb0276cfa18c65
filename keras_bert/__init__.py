"""keras_bert: BERT (Devlin et al., 2018) for TensorFlow and Keras 3."""

# Subpackages are imported so `import keras_bert` registers every Keras
# serializable class (a saved classifier holds its optimizer's schedule).
from keras_bert import checkpoints, data, export, layers, losses, metrics, models, presets, text, training
from keras_bert.checkpoints import (
    BertCheckpoint,
    CheckpointError,
    load_encoder,
    read_checkpoint,
    save_tf1_checkpoint,
)
from keras_bert.config import BertConfig
from keras_bert.layers import mean_pool
from keras_bert.presets import list_presets
from keras_bert.models import (
    BertClassifier,
    BertEncoder,
    BertMultipleChoice,
    BertPretrainer,
    BertSpanLabeler,
    BertTextEmbedder,
    BertTokenClassifier,
)

__version__ = "0.1.0"

__all__ = [
    "BertCheckpoint",
    "BertClassifier",
    "BertConfig",
    "BertEncoder",
    "BertMultipleChoice",
    "BertPretrainer",
    "BertSpanLabeler",
    "BertTextEmbedder",
    "BertTokenClassifier",
    "CheckpointError",
    "list_presets",
    "load_encoder",
    "mean_pool",
    "read_checkpoint",
    "save_tf1_checkpoint",
]
