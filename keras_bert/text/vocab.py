"""Reading WordPiece vocabulary files (one token a line, id = line number)."""

import os

SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")


def load_vocab(vocab_file):
    """Reads a `vocab.txt` into a list of tokens, checking that BERT can use it.

    Args:
        vocab_file: str. UTF-8 text, one token a line.

    Returns:
        The tokens, in id order.

    Raises:
        FileNotFoundError: the file is missing.
        ValueError: the file is empty, not UTF-8, or lacks a special token.

    Example:
    >>> import tempfile
    >>> path = tempfile.mktemp()
    >>> _ = open(path, "w").write("[PAD]\\n[UNK]\\n[CLS]\\n[SEP]\\n[MASK]\\nhello\\n")
    >>> load_vocab(path)[-1]
    'hello'
    """
    vocab_file = os.fspath(vocab_file)
    if not os.path.isfile(vocab_file):
        raise FileNotFoundError(
            f"Vocabulary file {vocab_file!r} does not exist; pass the vocab.txt "
            "that was released with the checkpoint."
        )
    with open(vocab_file, "rb") as f:
        raw = f.read()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        raise ValueError(
            f"Vocabulary file {vocab_file!r} is not UTF-8 (bad byte at line {line}); "
            "re-save it as UTF-8."
        ) from None
    # Only "\n" ends a line: tokens such as U+2028 are line breaks to
    # str.splitlines() but ordinary entries of the Chinese vocabulary.
    tokens = [line.removesuffix("\r") for line in text.split("\n")]
    if tokens and tokens[-1] == "":
        tokens.pop()
    if not tokens:
        raise ValueError(f"Vocabulary file {vocab_file!r} is empty.")
    first_line = {}
    for line, token in enumerate(tokens, start=1):
        if token in first_line:
            raise ValueError(
                f"Vocabulary file {vocab_file!r} repeats {token!r} on lines "
                f"{first_line[token]} and {line}; each token must appear once."
            )
        first_line[token] = line
    missing = [t for t in SPECIAL_TOKENS if t not in tokens]
    if missing:
        raise ValueError(
            f"Vocabulary file {vocab_file!r} lacks the special token(s) {missing}, "
            f"which BERT needs; add them (the standard order is {list(SPECIAL_TOKENS)})."
        )
    return tokens
