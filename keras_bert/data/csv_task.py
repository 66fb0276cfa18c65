"""Sentence(-pair) classification from any CSV/TSV file with named columns."""

import csv
import os

from keras_bert.data.glue import GlueExamples
from keras_bert.data.text_files import csv_rows, open_utf8


def read_labelled_csv(path, text_a_column, label_column, text_b_column=None, label_names=None):
    """Reads a CSV (or, for `.tsv` files, tab-separated) file with a header row.

    Args:
        path: str. `.tsv` is tab-separated, anything else comma-separated.
        text_a_column, label_column: header names of the text and label.
        text_b_column: optional header name of the second text.
        label_names: the label values in id order; by default the sorted
            distinct labels of this file (pass the training file's to read
            a dev file).

    Returns:
        `GlueExamples`.

    Raises:
        ValueError: naming the file (and line) for a missing column or a
            label outside `label_names`.

    Example:
    >>> import tempfile
    >>> path = tempfile.mktemp(suffix=".csv")
    >>> _ = open(path, "w").write("review,stars\\nGreat,pos\\nBad,neg\\n")
    >>> examples = read_labelled_csv(path, "review", "stars")
    >>> examples.labels, examples.label_names
    ([1, 0], ('neg', 'pos'))
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"No file at {path!r}.")
    delimiter = "\t" if path.endswith(".tsv") else ","
    with open_utf8(path) as f:
        reader = csv.DictReader(f, delimiter=delimiter, quoting=csv.QUOTE_NONE if delimiter == "\t" else csv.QUOTE_MINIMAL)
        wanted = [c for c in (text_a_column, text_b_column, label_column) if c]
        missing = [c for c in wanted if c not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"{path}: no column(s) {missing}; its header has {reader.fieldnames}.")
        rows = csv_rows(reader, path)
    if not rows:
        raise ValueError(f"{path}: no rows after the header.")
    for line, row in enumerate(rows, start=2):
        short = [c for c in wanted if row[c] is None]
        if short:
            raise ValueError(f"{path}, line {line}: no value in column(s) {short}; the row is shorter than the header.")
    label_names = tuple(label_names or sorted({row[label_column] for row in rows}))
    labels = []
    for line, row in enumerate(rows, start=2):
        if row[label_column] not in label_names:
            raise ValueError(f"{path}, line {line}: label {row[label_column]!r} is not one of {list(label_names)}.")
        labels.append(label_names.index(row[label_column]))
    text_b = [row[text_b_column] for row in rows] if text_b_column else None
    return GlueExamples([row[text_a_column] for row in rows], text_b, labels, label_names, path)
