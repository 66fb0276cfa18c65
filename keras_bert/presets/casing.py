"""Whether a checkpoint's text is lower-cased: read from the checkpoint, never assumed.

In order: Hugging Face's `tokenizer_config.json` (`do_lower_case`), the
preset's record, else the vocabulary itself (a vocabulary with capitalised
whole words, "The" beside "the", is cased).
"""

import json
import os

from absl import logging

from keras_bert.presets.registry import get_preset
from keras_bert.presets.resolve import checkpoint_directory

TOKENIZER_CONFIG = "tokenizer_config.json"


def checkpoint_lower_case(name_or_path=None, vocab_file=None):
    """`(lower_case, reason)` for a checkpoint: its tokenizer config, preset record, or vocabulary.

    Args:
        name_or_path: anything `checkpoint_path` accepts; None for the
            embedded default checkpoint (or, with `vocab_file`, for none).
        vocab_file: the vocabulary used with it, when not the one beside it.

    Returns:
        `(bool, str)`: whether to lower-case, and where that was read.

    Example:
    >>> checkpoint_lower_case()  # all-MiniLM-L6-v2
    (True, '...tokenizer_config.json says do_lower_case=True')
    >>> import tempfile
    >>> directory = tempfile.mkdtemp()
    >>> _ = open(os.path.join(directory, "vocab.txt"), "w").write("[PAD]\\n[UNK]\\nthe\\nThe\\n")
    >>> checkpoint_lower_case(directory)
    (False, "...vocab.txt has capitalised whole words ('The' beside 'the'), so it is cased")
    """
    if name_or_path is None and vocab_file is not None:  # A vocabulary without a checkpoint (pretraining).
        return vocab_lower_case(vocab_file)
    directory = checkpoint_directory(name_or_path)
    tokenizer_config = os.path.join(directory, TOKENIZER_CONFIG)
    if os.path.isfile(tokenizer_config):
        with open(tokenizer_config, encoding="utf-8") as f:
            settings = json.load(f)
        if isinstance(settings.get("do_lower_case"), bool):
            return settings["do_lower_case"], f"{tokenizer_config} says do_lower_case={settings['do_lower_case']}"
    preset = get_preset(os.fspath(name_or_path)) if name_or_path else None
    if preset is not None:
        return preset.lower_case, f"preset {preset.name!r} is {'un' if preset.lower_case else ''}cased"
    vocab_file = vocab_file or os.path.join(directory, "vocab.txt")
    if os.path.isfile(vocab_file):
        return vocab_lower_case(vocab_file)
    return True, "nothing states its casing (no tokenizer_config.json or vocab.txt); uncased assumed"


def vocab_lower_case(vocab_file):
    """`(lower_case, reason)` told by a vocabulary: cased if it holds "The" beside "the" (any such pair).

    Example:
    >>> import tempfile
    >>> vocab = tempfile.mktemp()
    >>> _ = open(vocab, "w").write("[PAD]\\n[UNK]\\nthe\\n##s\\n")
    >>> vocab_lower_case(vocab)
    (True, '... has no capitalised whole word beside its lower-case form, so it is uncased')
    """
    with open(vocab_file, encoding="utf-8", errors="replace") as f:
        tokens = set(f.read().split("\n"))
    for token in sorted(tokens):
        if len(token) > 1 and token.isalpha() and token[0].isupper() and token.lower() in tokens:
            return False, f"{vocab_file} has capitalised whole words ({token!r} beside {token.lower()!r}), so it is cased"
    return True, f"{vocab_file} has no capitalised whole word beside its lower-case form, so it is uncased"


def resolve_lower_case(name_or_path=None, override=None, vocab_file=None):
    """The casing to use: the checkpoint's, or `override` (with a warning naming both when they differ).

    Args:
        name_or_path: the checkpoint, as `checkpoint_lower_case` takes it.
        override: bool or None (a script's `--do_lower_case`).
        vocab_file: the vocabulary used with it, when not the one beside it.

    Example:
    >>> resolve_lower_case(None), resolve_lower_case(None, override=False)  # the second one warns
    (True, False)
    """
    lower_case, reason = checkpoint_lower_case(name_or_path, vocab_file)
    if override is None:
        logging.info("Lower-casing: %s (%s).", lower_case, reason)
        return lower_case
    if override != lower_case:
        logging.warning(
            "do_lower_case=%s overrides the checkpoint's casing: %s. Token ids will not match the ones it was "
            "trained with unless that is wrong.", override, reason,
        )
    return override
