"""The `.keras` layout: a `BertEncoder` saved with `encoder.save("model.keras")`."""

import os

import keras

from keras_bert.checkpoints.bert_checkpoint import BertCheckpoint
from keras_bert.checkpoints.errors import CheckpointError
from keras_bert.checkpoints.name_table import encoder_weights
from keras_bert.models.bert_encoder import BertEncoder


def load_keras_encoder(path):
    """The `BertEncoder` saved in the `.keras` file at `path`.

    Raises:
        FileNotFoundError: no file at `path`.
        CheckpointError: the file is unreadable or holds another model.

    Example:
    >>> import tempfile
    >>> path = tempfile.mkdtemp() + "/tiny.keras"
    >>> BertEncoder(vocab_size=23, hidden_size=8, num_layers=1, num_attention_heads=2,
    ...             intermediate_size=12).save(path)
    >>> load_keras_encoder(path).config.num_layers
    1
    """
    if not os.path.isfile(path):
        raise FileNotFoundError(f"No .keras file at {path!r}.")
    try:
        model = keras.saving.load_model(path)
    except Exception as e:  # Keras raises many types for unreadable archives.
        raise CheckpointError(f"Cannot load {path} as a Keras model ({e}).") from None
    if not isinstance(model, BertEncoder):
        raise CheckpointError(
            f"{path} holds a {type(model).__name__}, not a BertEncoder; load it "
            "with keras.saving.load_model instead."
        )
    return model


def read_keras_checkpoint(path):
    """A `.keras` file's encoder as a `BertCheckpoint` (no heads, no vocabulary).

    Example:
    >>> import tempfile
    >>> path = tempfile.mkdtemp() + "/tiny.keras"
    >>> BertEncoder(vocab_size=23, hidden_size=8, num_layers=1, num_attention_heads=2,
    ...             intermediate_size=12).save(path)
    >>> checkpoint = read_keras_checkpoint(path)
    >>> checkpoint.weights["bert/pooler/dense/kernel"].shape, checkpoint.heads, checkpoint.vocab_file
    ((8, 8), {}, None)
    """
    encoder = load_keras_encoder(path)
    return BertCheckpoint(encoder.config, encoder_weights(encoder), {}, [], None, path)
