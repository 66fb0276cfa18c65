"""Reading WordPiece vocabulary files (one token a line, id = line number)."""

import os


def read_utf8(path):
    """The text of a UTF-8 file, a leading byte-order mark dropped, decoded whole.

    Decoding up front turns a bad byte into an error naming the file and
    line, instead of Python's bare codec message part-way through a reader.

    Raises:
        ValueError: the file is not UTF-8, naming the line and the byte.

    Example:
    >>> import tempfile
    >>> path = tempfile.mktemp(suffix=".tsv")
    >>> _ = open(path, "wb").write(b"sentence\\tlabel\\ncaf\\xe9\\t1\\n")
    >>> read_utf8(path)
    Traceback (most recent call last):
    ...
    ValueError: ....tsv, line 2: byte 0xe9 is not UTF-8; re-save the file as UTF-8 (e.g. iconv -f latin1 -t utf-8).
    """
    with open(path, "rb") as f:
        raw = f.read()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        raise ValueError(
            f"{path}, line {line}: byte 0x{raw[e.start]:02x} is not UTF-8; re-save the file as UTF-8 "
            "(e.g. iconv -f latin1 -t utf-8)."
        ) from None

SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")


def load_vocab(vocab_file):
    """Reads a `vocab.txt` into a list of tokens.

    Special tokens are not checked here: each user checks the ones it needs
    with `special_token_ids` (WordPiece needs only `[UNK]`).

    Args:
        vocab_file: str. UTF-8 text, one token a line.

    Returns:
        The tokens, in id order.

    Raises:
        FileNotFoundError: the file is missing.
        ValueError: the file is empty, not UTF-8, or repeats a token.

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
    text = read_utf8(vocab_file)
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
    return tokens


def special_token_ids(vocab, tokens, vocab_file, needed_by=None):
    """The ids of `tokens`, checking that the vocabulary has them all.

    Args:
        vocab: list of str, the tokens in id order (from `load_vocab`).
        tokens: the special tokens wanted, e.g. `("[CLS]", "[SEP]")`.
        vocab_file: str. Where `vocab` came from, for the error message.
        needed_by: optional str. What needs them, for the error message.

    Returns:
        A list of int ids, in the order of `tokens`.

    Raises:
        ValueError: naming the missing tokens, the file and the fix.

    Example:
    >>> vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "hello"]
    >>> special_token_ids(vocab, ("[CLS]", "[SEP]"), "vocab.txt", "packing")
    [2, 3]
    >>> special_token_ids(vocab, ("[MASK]",), "vocab.txt", "masking")
    Traceback (most recent call last):
    ...
    ValueError: Vocabulary file 'vocab.txt' lacks the special token(s) ['[MASK]'], which masking needs; add them (the standard order is ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]']).
    """
    missing = [t for t in tokens if t not in vocab]
    if missing:
        needed = f", which {needed_by} needs" if needed_by else ""
        raise ValueError(
            f"Vocabulary file {os.fspath(vocab_file)!r} lacks the special token(s) {missing}{needed}; "
            f"add them (the standard order is {list(SPECIAL_TOKENS)})."
        )
    return [vocab.index(t) for t in tokens]
