"""Training data for sentence embeddings: (anchor, positive[, negative]) rows and scored pairs, as tf.data."""

import csv
import dataclasses
import json
import math
import os

import tensorflow as tf

from keras_bert.data.classification_dataset import trim_to_longest
from keras_bert.data.prediction_io import SENTENCE_FORMATS, file_extension
from keras_bert.data.text_files import BadRows, csv_rows, open_utf8


@dataclasses.dataclass
class TextPairs:
    """Rows of texts for embedding training or evaluation, column by column.

    Named as sentence-transformers names its dataset columns: an `anchor`,
    its `positive` (for a scored pair, simply the second text, whatever its
    score), an optional hard `negative`, an optional gold `score`.

    Attributes:
        anchor: list of str.
        positive: list of str.
        negative: list of str, or None.
        score: list of float, or None.
        source: the file read.
        skipped_lines: line numbers of the bad rows skipped while reading.

    Example:
    >>> pairs = TextPairs(["A man eats.", "Kids play."], ["Someone eats.", "Children play."])
    >>> len(pairs), pairs.first(1).positive, pairs.columns
    (2, ['Someone eats.'], ('anchor', 'positive'))
    """

    anchor: list
    positive: list
    negative: list = None
    score: list = None
    source: str = ""
    skipped_lines: tuple = ()

    @property
    def columns(self):
        """The text columns present: `("anchor", "positive"[, "negative"])`."""
        return ("anchor", "positive") + (("negative",) if self.negative is not None else ())

    def first(self, n):
        """The first `n` rows (a quick run, a learning curve)."""
        return dataclasses.replace(self, **{field: getattr(self, field)[:n] for field in _VALUE_FIELDS
                                            if getattr(self, field) is not None})

    def __len__(self):
        return len(self.anchor)


_VALUE_FIELDS = ("anchor", "positive", "negative", "score")


def read_text_pairs(path, anchor_column="anchor", positive_column="positive", negative_column=None,
                    score_column=None, *, skip_bad_rows=False):
    """Reads text pairs, triplets or scored pairs from a `.tsv`, `.csv` or `.jsonl` file.

    `.tsv` (tab-separated, quotes are text) and `.csv` (CSV quoting) files
    have a header row naming the columns; `.jsonl` files hold one JSON
    object a line, the column names as keys (blank lines are skipped).

    Args:
        path: str, the file.
        anchor_column: the first text's column. Defaults to `"anchor"`.
        positive_column: the second text's column. Defaults to `"positive"`.
        negative_column: optional column of a hard negative (triplets).
        score_column: optional column of a gold similarity score (a number).
        skip_bad_rows: bool. False: a bad row raises. True: bad rows (too
            few or too many values, a missing key, a text that is not a
            string, a score that is not a finite number) are skipped,
            counted in `skipped_lines` and logged as one warning.

    Returns:
        `TextPairs`.

    Raises:
        FileNotFoundError: no such file.
        ValueError: naming the file (and line, for a bad row) for an unknown
            extension, a missing column, a bad row (unless skipped), or a
            file without rows.

    Example:
    >>> import tempfile
    >>> path = tempfile.mktemp(suffix=".tsv")
    >>> _ = open(path, "w").write("sentence1\\tsentence2\\tscore\\nA cat.\\tA kitten.\\t0.9\\nA cat.\\tStocks.\\t0\\n")
    >>> pairs = read_text_pairs(path, "sentence1", "sentence2", score_column="score")
    >>> pairs.positive, pairs.score
    (['A kitten.', 'Stocks.'], [0.9, 0.0])
    >>> _ = open(path, "w").write("sentence1\\tsentence2\\tscore\\nA cat.\\tA kitten.\\thigh\\n")
    >>> read_text_pairs(path, "sentence1", "sentence2", score_column="score")
    Traceback (most recent call last):
    ...
    ValueError: ....tsv, line 2: score 'high' is not a number; fix the row, or pass skip_bad_rows=True ...
    """
    path = os.fspath(path)
    extension = file_extension(path, SENTENCE_FORMATS, "path")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"No file at {path!r}.")
    text_columns = [c for c in (anchor_column, positive_column, negative_column) if c]
    rows = _json_rows(path, text_columns, score_column) if extension == ".jsonl" else _csv_rows(
        path, "\t" if extension == ".tsv" else ",", text_columns + ([score_column] if score_column else []))
    values = {field: [] for field in _VALUE_FIELDS}
    bad_rows, total = BadRows(path, skip_bad_rows), 0
    for line, row in rows:
        total += 1
        problem = row if isinstance(row, str) else None
        if problem is None and score_column:
            problem = _score_problem(row[score_column])
        if problem is not None:
            bad_rows.found(line, problem)
            continue
        for field, column in zip(_VALUE_FIELDS, (anchor_column, positive_column, negative_column, score_column)):
            if column:
                values[field].append(float(row[column]) if field == "score" else row[column])
    if not total:
        raise ValueError(f"{path}: no rows; the file is empty.")
    bad_rows.finish(total, len(values["anchor"]))
    return TextPairs(
        values["anchor"], values["positive"], values["negative"] if negative_column else None,
        values["score"] if score_column else None, path, bad_rows.lines,
    )


def _csv_rows(path, delimiter, columns):
    """`(line, {column: value})` of each data row, or `(line, problem)` for a bad one; blank lines skipped."""
    with open_utf8(path) as f:  # a leading byte-order mark is dropped
        reader = csv.DictReader(f, delimiter=delimiter,
                                quoting=csv.QUOTE_NONE if delimiter == "\t" else csv.QUOTE_MINIMAL)
        header = reader.fieldnames or []
        missing = [c for c in columns if c not in header]
        if missing:
            raise ValueError(f"{path}: no column(s) {missing}; its header has {header}. Name the columns to read "
                             "(anchor_column=, positive_column=, ...), or fix the header.")
        separator = "tab" if delimiter == "\t" else "comma"
        for line, row in csv_rows(reader, path, with_lines=True):
            short = [c for c in columns if row[c] is None]
            if short:
                yield line, f"no value in column(s) {short}; the row is shorter than the header"
            elif None in row:  # DictReader's key for values past the header
                yield line, (f"{len(header) + len(row[None])} values, but the header has {len(header)} (an unquoted "
                             f"{separator} inside a text?)")
            else:
                yield line, row


def _json_rows(path, text_columns, score_column):
    """`(line, object)` of each JSONL row, or `(line, problem)` for a bad one; blank lines skipped."""
    with open_utf8(path) as f:
        for line, text in enumerate(f, start=1):
            if not text.strip():
                continue
            try:
                row = json.loads(text)
            except ValueError as e:
                yield line, f"not a JSON object ({e})"
                continue
            if not isinstance(row, dict):
                yield line, f"a JSON {type(row).__name__}, not an object with keys {text_columns}"
                continue
            missing = [c for c in text_columns + ([score_column] if score_column else []) if c not in row]
            not_text = [c for c in text_columns if c in row and not isinstance(row[c], str)]
            if missing:
                yield line, f"no key(s) {missing} (keys: {sorted(row)})"
            elif not_text:
                yield line, f"the value of {not_text} is not a string"
            else:
                yield line, row


def _score_problem(value):
    """What is wrong with a score value, or None for a finite number."""
    if isinstance(value, bool):
        return f"score {value!r} is not a number"
    try:
        score = float(value)
    except (TypeError, ValueError):
        return f"score {value!r} is not a number"
    return None if math.isfinite(score) else f"score {value!r} is not a finite number"


def glue_text_pairs(examples, positive_label=None):
    """A GLUE sentence-pair task's examples as `TextPairs`: positive pairs for training, or scored pairs.

    Args:
        examples: `GlueExamples` of a pair task (MRPC, QQP, STS-B, ...).
        positive_label: optional label string (e.g. `"1"`, a paraphrase).
            Given: only the pairs with this label, as (anchor, positive)
            rows without scores. None: every pair, scored by its label's
            value (`"0"`/`"1"` as 0.0/1.0; STS-B's float scores as they are).

    Example:
    >>> from keras_bert.data.glue import GlueExamples
    >>> mrpc = GlueExamples(["He left.", "It rained."], ["He went away.", "Stocks fell."], [1, 0], ("0", "1"), "")
    >>> glue_text_pairs(mrpc, positive_label="1").anchor, glue_text_pairs(mrpc).score
    (['He left.'], [1.0, 0.0])
    """
    if examples.text_b is None or examples.labels is None:
        raise ValueError(f"{examples.source}: embedding pairs need a labelled sentence-pair task (two texts and a "
                         "label per row).")
    names = examples.label_names
    if positive_label is not None:
        if positive_label not in names:
            raise ValueError(f"positive_label={positive_label!r} is not one of the labels {list(names)}.")
        keep = [i for i, label in enumerate(examples.labels) if names[label] == positive_label]
        return TextPairs([examples.text_a[i] for i in keep], [examples.text_b[i] for i in keep],
                         source=examples.source)
    scores = [float(names[label]) if names else float(label) for label in examples.labels]
    return TextPairs(list(examples.text_a), list(examples.text_b), score=scores, source=examples.source)


def text_pairs_dataset(pairs, preprocessor, batch_size, shuffle=False, seed=None):
    """`({column: encoder inputs}, scores)` batches of `TextPairs` for `BertPairEmbedder`, tokenized in-graph.

    Each text column is packed on its own (`[CLS] text [SEP]`) and cut to
    its longest row in the batch (`trim_to_longest`).

    Args:
        pairs: `TextPairs`.
        preprocessor: a `BertPreprocessor`.
        batch_size: int. Rows per batch; the last batch of a pass may be
            smaller (as sentence-transformers' default).
        shuffle: bool. Reshuffle the rows every pass.
        seed: optional int, for a reproducible order.

    Returns:
        A `tf.data.Dataset` of `(inputs, scores)`: `inputs` maps each of
        `pairs.columns` to the encoder's input dict; `scores` is float32
        `(batch,)`, the gold scores, or zeros for unscored rows (in-batch
        negative losses ignore it).

    Example:
    >>> import os, tempfile
    >>> from keras_bert.text.bert_preprocessor import BertPreprocessor
    >>> vocab = os.path.join(tempfile.mkdtemp(), "vocab.txt")
    >>> _ = open(vocab, "w").write("\\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "a", "cat", "kitten"]))
    >>> pairs = TextPairs(["a cat", "cat"], ["a kitten", "kitten"], score=[0.5, 1.0])
    >>> inputs, scores = next(iter(text_pairs_dataset(pairs, BertPreprocessor(vocab, seq_length=8), 2)))
    >>> sorted(inputs), inputs["positive"]["input_word_ids"].numpy().tolist(), scores.numpy().tolist()
    (['anchor', 'positive'], [[2, 4, 6, 3], [2, 6, 3, 0]], [0.5, 1.0])
    """
    texts = {column: getattr(pairs, column) for column in pairs.columns}
    scores = pairs.score if pairs.score is not None else [0.0] * len(pairs)
    dataset = tf.data.Dataset.from_tensor_slices((texts, tf.constant(scores, tf.float32)))
    if shuffle:
        dataset = dataset.shuffle(len(pairs), seed=seed, reshuffle_each_iteration=True)

    def pack(batch_texts, batch_scores):
        return {column: trim_to_longest(preprocessor(text)) for column, text in batch_texts.items()}, batch_scores

    return dataset.batch(batch_size).map(pack, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)
