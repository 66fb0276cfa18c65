"""`BertCheckpoint`, the record every layout reader returns, and its assignment to an encoder."""

import dataclasses
import os

import numpy as np
from absl import logging

from keras_bert.checkpoints.errors import CheckpointError
from keras_bert.checkpoints.name_table import (
    HEAD_PREFIXES,
    encoder_variables,
    is_optimizer_state,
)
from keras_bert.config import BertConfig

VOCAB_FILE = "vocab.txt"


@dataclasses.dataclass
class BertCheckpoint:
    """A checkpoint read into memory, in Google's names and shapes.

    Attributes:
        config: the `BertConfig` stored with the checkpoint.
        weights: `{google_name: numpy array}` of the encoder (`bert/...`).
        heads: `{google_name: numpy array}` of the pretraining heads
            (`cls/predictions/...`, `cls/seq_relationship/...`), maybe empty.
        unused: names of other variables, neither weights nor optimizer state.
        vocab_file: path of the `vocab.txt` beside it, or None.
        source: the file the weights came from.

    Example:
    >>> import tempfile
    >>> from keras_bert import BertEncoder, read_checkpoint, save_tf1_checkpoint
    >>> vocab = tempfile.mktemp()
    >>> _ = open(vocab, "w").write("\\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "good"]))
    >>> directory = tempfile.mkdtemp()
    >>> _ = save_tf1_checkpoint(BertEncoder(vocab_size=23, hidden_size=8, num_layers=1,
    ...     num_attention_heads=2, intermediate_size=12), directory, vocab_file=vocab)
    >>> checkpoint = read_checkpoint(directory)
    >>> checkpoint.config.vocab_size, len(checkpoint.weights), checkpoint.heads, checkpoint.unused
    (23, 23, {}, [])
    >>> checkpoint.weights["bert/embeddings/word_embeddings"].shape
    (23, 8)
    >>> os.path.basename(checkpoint.vocab_file), os.path.basename(checkpoint.source)
    ('vocab.txt', 'bert_model.ckpt')
    """

    config: BertConfig
    weights: dict
    heads: dict
    unused: list
    vocab_file: str
    source: str

    @classmethod
    def from_google_weights(cls, config, all_weights, directory, source):
        """Sorts `{google_name: array}` into encoder weights, heads and unused names.

        Optimizer state (Adam slots, `global_step`) is dropped.

        Args:
            config: the checkpoint's `BertConfig`.
            all_weights: every variable read, in Google's names and shapes.
            directory: where to look for the `vocab.txt` that came with it.
            source: the file the weights came from, for messages.

        Example:
        >>> record = BertCheckpoint.from_google_weights(
        ...     BertConfig(), {"bert/pooler/dense/bias": np.zeros(2), "cls/predictions/output_bias": np.zeros(3),
        ...                    "bert/pooler/dense/bias/adam_m": np.zeros(2), "lr": np.zeros(())},
        ...     "/nowhere", "x.ckpt")
        >>> list(record.weights), list(record.heads), record.unused, record.vocab_file
        (['bert/pooler/dense/bias'], ['cls/predictions/output_bias'], ['lr'], None)
        """
        weights, heads, unused = {}, {}, []
        for name, value in all_weights.items():
            if is_optimizer_state(name):
                continue
            if name.startswith("bert/"):
                weights[name] = value
            elif name.startswith(HEAD_PREFIXES):
                heads[name] = value
            else:
                unused.append(name)
        vocab_file = os.path.join(directory, VOCAB_FILE)
        vocab_file = vocab_file if os.path.isfile(vocab_file) else None
        return cls(config, weights, heads, sorted(unused), vocab_file, source)


def assign_checkpoint(encoder, checkpoint):
    """Assigns a read `BertCheckpoint`'s weights to `encoder`, logging the variables it did not use.

    Raises:
        CheckpointError: as `assign_weights`.
    """
    unused = checkpoint.unused + assign_weights(encoder, checkpoint.weights, checkpoint.source)
    if unused:
        logging.warning(
            "%d variable(s) of %s were not used by the encoder: %s",
            len(unused),
            checkpoint.source,
            ", ".join(unused),
        )
    return encoder


def assign_weights(encoder, weights, source):
    """Assigns `{google_name: array}` to the encoder, checking every shape.

    Returns:
        The sorted names in `weights` that no encoder variable took.

    Raises:
        CheckpointError: listing every missing variable and every shape
            mismatch (the variable, the expected and the found shape).
    """
    variables = encoder_variables(encoder)
    missing = sorted(set(variables) - set(weights))
    mismatched = []
    for name, variable in variables.items():
        if name in weights:
            expected = tuple(variable.shape)
            found = tuple(np.shape(weights[name]))
            if found != expected:
                mismatched.append(f"{name}: expected shape {expected}, found {found}")
    if missing or mismatched:
        problems = [f"{name}: missing" for name in missing] + mismatched
        raise CheckpointError(
            f"{source} does not fit this encoder ({encoder.config}):\n  "
            + "\n  ".join(problems[:20])
            + (f"\n  ... and {len(problems) - 20} more" if len(problems) > 20 else "")
            + "\nBuild the encoder from the checkpoint's own config "
            "(keras_bert.load_encoder does), or use a checkpoint of this shape."
        )
    for name, variable in variables.items():
        variable.assign(np.asarray(weights[name]).astype(variable.dtype))
    return sorted(set(weights) - set(variables))
