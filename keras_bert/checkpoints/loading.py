"""`read_checkpoint` and `load_encoder`: any supported layout -> a `BertEncoder`."""

import dataclasses
import os

import keras
import numpy as np
from absl import logging

from keras_bert.checkpoints import hf_checkpoint, run_directory, tf1_checkpoint
from keras_bert.checkpoints.errors import CheckpointError
from keras_bert.checkpoints.name_table import (
    HEAD_PREFIXES,
    encoder_variables,
    encoder_weights,
    google_shape,
    is_optimizer_state,
)
from keras_bert.config import BertConfig
from keras_bert.models import BertEncoder

_LAYOUTS = (
    "(a) Google's release layout: a directory with bert_config.json and "
    "bert_model.ckpt.index/.data-*, or the checkpoint prefix itself; "
    "(b) Hugging Face: a directory with config.json and model.safetensors or "
    "pytorch_model.bin; (c) a .keras file saved from a BertEncoder; (d) the "
    "pretraining run directory, such as run_pretraining.py writes (its latest checkpoint)"
)


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
    >>> from keras_bert import BertEncoder, save_tf1_checkpoint
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


def read_checkpoint(path):
    """Reads a BERT checkpoint of any supported layout.

    Args:
        path: str. One of: a directory in Google's release layout, or its
            checkpoint prefix (`.../bert_model.ckpt`); a Hugging Face BERT
            directory; a `.keras` file; a `run_pretraining.py` model
            directory (its newest readable checkpoint, heads included).

    Returns:
        A `BertCheckpoint`.

    Raises:
        FileNotFoundError: `path` or a file the layout needs is missing.
        CheckpointError: the layout is unknown or a file is unreadable.

    Example:
    >>> import tempfile
    >>> from keras_bert import BertEncoder, save_tf1_checkpoint
    >>> directory = tempfile.mkdtemp()
    >>> _ = save_tf1_checkpoint(BertEncoder(vocab_size=23, hidden_size=8, num_layers=2,
    ...     num_attention_heads=2, intermediate_size=12), directory)
    >>> checkpoint = read_checkpoint(directory)
    >>> checkpoint.config.num_layers, checkpoint.weights["bert/pooler/dense/kernel"].shape
    (2, (8, 8))
    """
    path = os.fspath(path)
    if path.endswith(".keras"):
        return _read_keras_file(path)
    if os.path.isfile(path + ".index"):
        directory = os.path.dirname(path) or "."
        return _read_google(directory, path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"No checkpoint at {path!r}: it does not exist. Accepted: {_LAYOUTS}.")
    if not os.path.isdir(path):
        raise CheckpointError(f"{path!r} is not a BERT checkpoint. Accepted: {_LAYOUTS}.")
    if run_directory.is_run_directory(path):
        return _read_run_directory(path)
    prefix = tf1_checkpoint.find_checkpoint_prefix(path)
    if prefix is not None:
        return _read_google(path, prefix)
    weight_file = hf_checkpoint.find_weight_file(path)
    if weight_file is not None:
        return _read_hf(path, weight_file)
    found = sorted(os.listdir(path))[:20]
    raise CheckpointError(
        f"Unknown checkpoint layout in {path!r} (it holds {found}). Accepted: {_LAYOUTS}."
    )


def load_encoder(path):
    """Builds a `BertEncoder` and loads a checkpoint's weights into it.

    The encoder's shape comes from the checkpoint's own config. Every encoder
    variable must be found with the right shape; variables that are neither
    encoder weights, pretraining heads nor optimizer state are logged as
    unused (they are kept in `read_checkpoint(path).unused`).

    Args:
        path: str. Any layout `read_checkpoint` accepts.

    Returns:
        A `BertEncoder` holding the checkpoint's weights.

    Raises:
        FileNotFoundError, CheckpointError: as `read_checkpoint`, and
            `CheckpointError` naming each variable that is missing or has
            another shape (expected vs found).

    Example:
    >>> import tempfile
    >>> from keras_bert import BertEncoder
    >>> path = tempfile.mkdtemp() + "/tiny.keras"
    >>> BertEncoder(vocab_size=23, hidden_size=8, num_layers=1, num_attention_heads=2,
    ...             intermediate_size=12).save(path)
    >>> load_encoder(path).config.hidden_size
    8
    """
    path = os.fspath(path)
    if path.endswith(".keras"):
        return _load_keras_file(path)
    return encoder_from_checkpoint(read_checkpoint(path))


def load_encoder_and_vocab(path=None, vocab_file=None, random_init=False):
    """`(encoder, vocab_file)`: what every fine-tuning script starts from.

    Args:
        path: any layout `load_encoder` reads; default: the embedded
            all-MiniLM-L6-v2 weights (`default_checkpoint_path`).
        vocab_file: default: the `vocab.txt` beside the checkpoint.
        random_init: bool. Keep the checkpoint's architecture and vocabulary
            but start from freshly initialised weights (following the Keras
            seed): the from-scratch baseline that shows what pretraining
            adds.

    Raises:
        FileNotFoundError: no vocabulary was given or found beside it.
        ValueError: the vocabulary has more tokens than the encoder's
            embedding table has rows (ids would fall outside it).

    Example: a tiny checkpoint with its `vocab.txt` (without arguments it
    loads all-MiniLM-L6-v2 instead).

    >>> import tempfile
    >>> from keras_bert import save_tf1_checkpoint
    >>> vocab = tempfile.mktemp()
    >>> _ = open(vocab, "w").write("\\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "good"]))
    >>> original = BertEncoder(vocab_size=23, hidden_size=8, num_layers=1,
    ...                        num_attention_heads=2, intermediate_size=12)
    >>> directory = tempfile.mkdtemp()
    >>> _ = save_tf1_checkpoint(original, directory, vocab_file=vocab)
    >>> encoder, vocab_file = load_encoder_and_vocab(directory)
    >>> encoder.config.hidden_size, os.path.basename(vocab_file)
    (8, 'vocab.txt')
    >>> same = lambda a, b: all(np.array_equal(x, y) for x, y in zip(a.weights, b.weights))
    >>> same(encoder, original)
    True
    >>> scratch, _ = load_encoder_and_vocab(directory, random_init=True)  # same shape, fresh weights
    >>> scratch.config == encoder.config, same(scratch, original)
    (True, False)
    """
    from keras_bert.checkpoints.default_weights import default_checkpoint_path

    path = os.fspath(path or default_checkpoint_path())
    if path.endswith(".keras"):
        encoder, found_vocab = _load_keras_file(path), None
        if random_init:
            encoder = BertEncoder.from_bert_config(encoder.config)
    else:
        checkpoint = read_checkpoint(path)
        found_vocab = checkpoint.vocab_file
        # From scratch: the checkpoint's shape only, no weights assigned to be thrown away.
        encoder = BertEncoder.from_bert_config(checkpoint.config) if random_init else encoder_from_checkpoint(checkpoint)
    vocab_file = vocab_file or found_vocab
    if vocab_file is None:
        raise FileNotFoundError(f"No vocab.txt beside {path}; pass the vocabulary file explicitly.")
    check_vocab_fits(vocab_file, encoder.config, path)
    return encoder, vocab_file


def check_vocab_fits(vocab_file, config, source):
    """Raises ValueError when `vocab_file` has more tokens than `config.vocab_size`.

    Ids past the embedding table would otherwise fail deep inside
    TensorFlow, or (on some devices) silently read zeros.

    Example:
    >>> import tempfile
    >>> from keras_bert import BertConfig
    >>> vocab = tempfile.mktemp()
    >>> _ = open(vocab, "w").write("\\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]))
    >>> check_vocab_fits(vocab, BertConfig(vocab_size=5), "x")
    >>> check_vocab_fits(vocab, BertConfig(vocab_size=4), "x")
    Traceback (most recent call last):
    ...
    ValueError: ... has 5 tokens but the checkpoint's vocab_size is 4; use the vocabulary released with x.
    """
    from keras_bert.text.vocab import load_vocab

    vocab_size = len(load_vocab(vocab_file))
    if vocab_size > config.vocab_size:
        raise ValueError(
            f"{vocab_file} has {vocab_size} tokens but the checkpoint's vocab_size is "
            f"{config.vocab_size}; use the vocabulary released with {source}."
        )


def encoder_from_checkpoint(checkpoint):
    """A `BertEncoder` built from a read `BertCheckpoint` and holding its weights.

    Variables the encoder does not use are logged by name. Call it inside a
    `tf.distribute` strategy's scope to place the encoder there.

    Example:
    >>> import tempfile
    >>> from keras_bert import BertEncoder, save_tf1_checkpoint
    >>> directory = tempfile.mkdtemp()
    >>> _ = save_tf1_checkpoint(BertEncoder(vocab_size=23, hidden_size=8, num_layers=1,
    ...     num_attention_heads=2, intermediate_size=12), directory)
    >>> encoder_from_checkpoint(read_checkpoint(directory)).config.num_layers
    1
    """
    encoder = BertEncoder.from_bert_config(checkpoint.config)
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
            expected = google_shape(name, variable.shape)
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
        variable.assign(np.reshape(weights[name], variable.shape).astype(variable.dtype))
    return sorted(set(weights) - set(variables))


def _split(all_weights):
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
    return weights, heads, sorted(unused)


def _vocab_beside(directory):
    vocab = os.path.join(directory, tf1_checkpoint.VOCAB_FILE)
    return vocab if os.path.isfile(vocab) else None


def _read_google(directory, prefix):
    config_path = os.path.join(directory, tf1_checkpoint.CONFIG_FILE)
    if not os.path.isfile(config_path):
        raise FileNotFoundError(
            f"The TF1 checkpoint {prefix!r} has no {tf1_checkpoint.CONFIG_FILE} "
            f"beside it in {directory!r}; put the bert_config.json it was trained "
            "with there."
        )
    config = BertConfig.from_json_file(config_path)
    weights, heads, unused = _split(tf1_checkpoint.read_tf1_weights(prefix))
    return BertCheckpoint(config, weights, heads, unused, _vocab_beside(directory), prefix)


def _read_hf(directory, weight_file):
    config_path = os.path.join(directory, hf_checkpoint.CONFIG_FILE)
    if not os.path.isfile(config_path):
        raise FileNotFoundError(
            f"{weight_file} has no {hf_checkpoint.CONFIG_FILE} beside it; a "
            "Hugging Face BERT directory needs both."
        )
    config = BertConfig.from_json_file(config_path)
    weights, heads, unused = _split(hf_checkpoint.read_hf_weights(weight_file))
    return BertCheckpoint(config, weights, heads, unused, _vocab_beside(directory), weight_file)


def _read_run_directory(directory):
    config, encoder, heads, path = run_directory.read_run_directory(directory)
    if path is None:
        raise CheckpointError(f"The run directory {directory} has no checkpoint yet.")
    return BertCheckpoint(config, encoder_weights(encoder), heads, [], _vocab_beside(directory), path)


def _load_keras_file(path):
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


def _read_keras_file(path):
    encoder = _load_keras_file(path)
    return BertCheckpoint(encoder.config, encoder_weights(encoder), {}, [], None, path)
