"""Reading raw text corpora: plain text files and WikiExtractor `<doc>` files."""

import glob
import os

import tensorflow as tf


def expand_file_patterns(patterns):
    """Expands comma-separated globs into a sorted list of files.

    Raises:
        FileNotFoundError: naming each pattern that matches no file.
    """
    if isinstance(patterns, str):
        patterns = [p for p in patterns.split(",") if p]
    files, empty = [], []
    for pattern in patterns:
        matches = sorted(glob.glob(os.path.expanduser(pattern)))
        (files.extend(matches) if matches else empty.append(pattern))
    if empty:
        raise FileNotFoundError(
            f"No files match {empty}; check the path (globs such as 'wiki/wiki_*' are allowed)."
        )
    return files


def text_lines_dataset(files):
    """A dataset of the non-empty text lines of `files`, `<doc>` markup dropped.

    WikiExtractor output wraps articles in `<doc ...>` / `</doc>` lines; those
    lines are skipped, so the same reader serves both formats.

    Example:
    >>> import tempfile
    >>> path = tempfile.mktemp()
    >>> _ = open(path, "w").write('<doc id="1">\\nTitle\\n\\nText.\\n</doc>\\n')
    >>> [line.decode() for line in text_lines_dataset([path]).as_numpy_iterator()]
    ['Title', 'Text.']
    """
    lines = tf.data.TextLineDataset(files)
    return lines.filter(
        lambda line: tf.logical_and(
            tf.strings.length(tf.strings.strip(line)) > 0,
            tf.logical_not(tf.strings.regex_full_match(line, r"\s*</?doc( [^>]*)?>\s*")),
        )
    )
