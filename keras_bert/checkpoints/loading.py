"""`read_checkpoint` and `load_encoder`: tell a checkpoint's layout, let its module read it.

Each layout's module returns the common `BertCheckpoint` record:
`tf1_checkpoint` (Google's release), `hf_checkpoint` (Hugging Face),
`keras_file` (`.keras`) and `run_directory` (a `run_pretraining.py` run).
"""

import os

from keras_bert.checkpoints import keras_file, run_directory
from keras_bert.checkpoints.release_layouts import read_release_checkpoint
from keras_bert.models.bert_encoder import BertEncoder
from keras_bert.presets import checkpoint_path

_LAYOUTS = (
    "(a) Google's release layout: a directory with bert_config.json and "
    "bert_model.ckpt.index/.data-*, or the checkpoint prefix itself; "
    "(b) Hugging Face: a directory with config.json and model.safetensors or "
    "pytorch_model.bin; (c) a .keras file saved from a BertEncoder; (d) the "
    "pretraining run directory, such as run_pretraining.py writes (its latest checkpoint); "
    "(e) a preset name, hf://OWNER/NAME, an http(s):// URL or a gs:// path (downloaded and cached)"
)


def read_checkpoint(path):
    """Reads a BERT checkpoint of any supported layout.

    Args:
        path: str. One of: a directory in Google's release layout, or its
            checkpoint prefix (`.../bert_model.ckpt`); a Hugging Face BERT
            directory; a `.keras` file; a `run_pretraining.py` model
            directory (its newest readable checkpoint, heads included); or
            a preset name, `hf://owner/name`, URL or `gs://` path, which
            `keras_bert.presets.checkpoint_path` downloads into the cache.

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
    path = checkpoint_path(path)
    if path.endswith(".keras"):
        return keras_file.read_keras_checkpoint(path)
    if os.path.isdir(path) and run_directory.is_run_directory(path):
        return run_directory.read_run_directory(path)
    return read_release_checkpoint(path, accepted=_LAYOUTS)


def load_encoder(path):
    """Builds a `BertEncoder` and loads a checkpoint's weights into it.

    The encoder's shape comes from the checkpoint's own config. Every encoder
    variable must be found with the right shape; variables that are neither
    encoder weights, pretraining heads nor optimizer state are logged as
    unused (they are kept in `read_checkpoint(path).unused`).

    Args:
        path: str. Any layout or name `read_checkpoint` accepts, such as
            `"bert_base_en_uncased"` or `"hf://google-bert/bert-base-cased"`.

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
    path = checkpoint_path(path)
    if path.endswith(".keras"):
        return keras_file.load_keras_encoder(path)
    return BertEncoder.from_checkpoint(read_checkpoint(path))


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
    >>> import numpy as np
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
    from keras_bert.presets.default_weights import default_checkpoint_path

    path = checkpoint_path(path or default_checkpoint_path())
    if path.endswith(".keras"):
        encoder, found_vocab = keras_file.load_keras_encoder(path), None
        if random_init:
            encoder = BertEncoder.from_bert_config(encoder.config)
    else:
        checkpoint = read_checkpoint(path)
        found_vocab = checkpoint.vocab_file
        # From scratch: the checkpoint's shape only, no weights assigned to be thrown away.
        encoder = BertEncoder.from_bert_config(checkpoint.config) if random_init else BertEncoder.from_checkpoint(checkpoint)
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
