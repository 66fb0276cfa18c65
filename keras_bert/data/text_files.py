"""Reading raw text corpora: plain text files and WikiExtractor `<doc>` files."""

import csv
import glob
import io
import os

import tensorflow as tf
from absl import logging

from keras_bert.text.vocab import read_utf8


def csv_rows(reader, path, with_lines=False):
    """Every row of a `csv` reader over `path`, streamed; a `csv.Error` (say, a field over csv's size limit)
    becomes a ValueError naming the file and line.

    Args:
        reader: a `csv.reader` or `csv.DictReader`.
        path: str, the file, for errors.
        with_lines: bool. Return `(line, row)` pairs, `line` the 1-based number of the row's (last)
            line in the file, for errors that name it; a quoted field may span lines.

    Example:
    >>> import csv
    >>> list(csv_rows(csv.reader(io.StringIO("a,b\\n1,2\\n")), "x.csv"))
    [['a', 'b'], ['1', '2']]
    >>> list(csv_rows(csv.reader(io.StringIO('a,b\\n"1\\n1",2\\n3,4\\n')), "x.csv", with_lines=True))
    [(1, ['a', 'b']), (3, ['1\\n1', '2']), (4, ['3', '4'])]
    """
    try:
        for row in reader:
            yield (reader.line_num, row) if with_lines else row
    except csv.Error as e:
        raise ValueError(f"{path}, line {reader.line_num}: {e}.") from None


class BadRows:
    """What a file reader does with bad rows: stop at the first, or skip and count them all.

    Args:
        path: str, the file (named in every message).
        skip: bool. False: `found` raises. True: it records the row, and
            `finish` logs one warning for all of them.

    Example:
    >>> bad_rows = BadRows("train.tsv", skip=True)
    >>> bad_rows.found(3, "label '7' is not one of ['0', '1']")
    >>> bad_rows.finish(total=100, kept=99)
    >>> bad_rows.lines
    (3,)
    >>> BadRows("train.tsv", skip=False).found(3, "2 values, but the header has 3")
    Traceback (most recent call last):
    ...
    ValueError: train.tsv, line 3: 2 values, but the header has 3; fix the row, or pass skip_bad_rows=True to skip such rows.
    """

    def __init__(self, path, skip):
        self.path = path
        self.skip = skip
        self.problems = {}  # line -> what is wrong with it

    @property
    def lines(self):
        """The skipped rows' line numbers, in order."""
        return tuple(sorted(self.problems))

    def found(self, line, problem):
        """Raises for the row at `line`, or records it when skipping."""
        if not self.skip:
            raise ValueError(f"{self.path}, line {line}: {problem}; fix the row, or pass skip_bad_rows=True to "
                             "skip such rows.")
        self.problems[line] = problem

    def finish(self, total, kept):
        """Logs the skipped rows (one warning naming the file, the count and the first lines).

        Raises:
            ValueError: no row was kept.
        """
        lines = self.lines
        first = f"line {lines[0]}: {self.problems[lines[0]]}" if lines else None
        if lines:
            shown = ", ".join(str(line) for line in lines[:5]) + (", ..." if len(lines) > 5 else "")
            logging.warning("%s: skipped %d bad row(s) of %d, at line%s %s; the first, %s.", self.path, len(lines),
                            total, "s" if len(lines) > 1 else "", shown, first)
        if not kept:
            raise ValueError(f"{self.path}: no examples; all {total} rows are bad (the first at {first}).")


def open_utf8(path):
    """A text stream of a UTF-8 file read whole by `read_utf8`, with line endings kept (as `csv` wants).

    Raises:
        ValueError: the file is not UTF-8, naming the line and the byte.
    """
    return io.StringIO(read_utf8(path), newline="")


def expand_file_patterns(patterns):
    """Expands comma-separated globs into a list of files.

    Args:
        patterns: str of comma-separated globs, or a list of globs. `~` is
            expanded.

    Returns:
        list of str: each pattern's matches, sorted, in pattern order.

    Raises:
        FileNotFoundError: naming each pattern that matches no file.

    Example:
    >>> import os, tempfile
    >>> folder = tempfile.mkdtemp()
    >>> for name in ("wiki_01", "wiki_00", "notes"):
    ...     _ = open(os.path.join(folder, name), "w").write("text\\n")
    >>> [os.path.basename(f) for f in expand_file_patterns(f"{folder}/wiki_*,{folder}/notes")]
    ['wiki_00', 'wiki_01', 'notes']
    >>> expand_file_patterns(f"{folder}/missing_*")
    Traceback (most recent call last):
    ...
    FileNotFoundError: No files match [...missing_*']; check the path (globs such as 'wiki/wiki_*' are allowed).
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
