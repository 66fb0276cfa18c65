"""Sentence(-pair) classification from any CSV/TSV file with named columns."""

import csv
import os

from keras_bert.data.glue import GlueExamples
from keras_bert.data.text_files import BadRows, csv_rows, open_utf8


def read_labelled_csv(path, text_a_column, label_column, text_b_column=None, label_names=None, *,
                      id_column=None, skip_bad_rows=False):
    """Reads a CSV (or, for `.tsv` files, tab-separated) file with a header row.

    Args:
        path: str. `.tsv` is tab-separated (quotes are text), anything else
            comma-separated (with CSV quoting).
        text_a_column: header name of the (first) text.
        label_column: header name of the label; None for an unlabelled file
            (test data to predict), whose examples then have `labels=None`.
        text_b_column: optional header name of the second text.
        label_names: the label values in id order; by default the sorted
            distinct labels of this file (pass the training file's to read
            a dev or test file; an unlabelled file without them has ()).
        id_column: optional header name of each row's id; by default a row's
            id is its 0-based position among the file's rows (bad rows
            skipped keep their numbers), so predictions can be matched back.
        skip_bad_rows: bool. False: a bad row raises. True: bad rows (fewer
            or more values than the header, a label outside `label_names`)
            are skipped, counted in `skipped_lines` and logged as one warning
            naming the file, the count and the first lines.

    Returns:
        `GlueExamples`, with `ids`.

    Raises:
        FileNotFoundError: the file is missing.
        ValueError: naming the file (and line) for a missing column, a bad
            row (unless skipped), or a file without examples.

    Example:
    >>> import tempfile
    >>> path = tempfile.mktemp(suffix=".csv")
    >>> _ = open(path, "w").write("review,stars\\nGreat,pos\\nBad,neg\\n")
    >>> examples = read_labelled_csv(path, "review", "stars")
    >>> examples.labels, examples.label_names, examples.ids
    ([1, 0], ('neg', 'pos'), ['0', '1'])
    >>> test = read_labelled_csv(path, "review", None)
    >>> test.text_a, test.labels
    (['Great', 'Bad'], None)
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"No file at {path!r}.")
    delimiter = "\t" if path.endswith(".tsv") else ","
    with open_utf8(path) as f:
        reader = csv.DictReader(f, delimiter=delimiter, quoting=csv.QUOTE_NONE if delimiter == "\t" else csv.QUOTE_MINIMAL)
        wanted = [c for c in (text_a_column, text_b_column, label_column, id_column) if c]
        missing = [c for c in wanted if c not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"{path}: no column(s) {missing}; its header has {reader.fieldnames}.")
        rows = list(csv_rows(reader, path, with_lines=True))
    if not rows:
        raise ValueError(f"{path}: no rows after the header.")
    width, separator = len(reader.fieldnames), "tab" if delimiter == "\t" else "comma"
    good, bad_rows = [], BadRows(path, skip_bad_rows)

    for position, (line, row) in enumerate(rows):
        short = [c for c in wanted if row[c] is None]
        if short:
            bad_rows.found(line, f"no value in column(s) {short}; the row is shorter than the header")
        elif None in row:  # DictReader's key for values past the header
            bad_rows.found(line, f"{width + len(row[None])} values, but the header has {width} (an unquoted {separator} "
                      "inside a text?)")
        else:
            good.append((position, line, row))
    if label_column:
        label_names = tuple(label_names or sorted({row[label_column] for _, _, row in good}))
        checked = []
        for position, line, row in good:
            if row[label_column] in label_names:
                checked.append((position, line, row))
            else:
                bad_rows.found(line, f"label {row[label_column]!r} is not one of {list(label_names)}")
        good = checked
    bad_rows.finish(len(rows), len(good))
    return GlueExamples(
        [row[text_a_column] for _, _, row in good],
        [row[text_b_column] for _, _, row in good] if text_b_column else None,
        [label_names.index(row[label_column]) for _, _, row in good] if label_column else None,
        tuple(label_names or ()),
        path,
        ids=[row[id_column] if id_column else str(position) for position, _, row in good],
        skipped_lines=bad_rows.lines,
    )
