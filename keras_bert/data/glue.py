"""Reading GLUE tasks from the official TSV files: train, dev and (unlabelled) test files."""

import csv
import dataclasses
import math
import os

from keras_bert.data.text_files import BadRows, csv_rows, open_utf8


@dataclasses.dataclass(frozen=True)
class _Columns:
    """Where the fields sit in one kind of official file (0-based columns)."""

    text_a: int
    text_b: int = -1  # -1: single-sentence task
    label: int = None  # None: no label (test files); -1: the last column
    id: int = None  # the `index`/`id` column; None: the file has none
    num_columns: tuple = ()  # the column counts a row may have
    header: bool = True


@dataclasses.dataclass(frozen=True)
class _Layout:
    """A task's official files: their names and columns, and its label strings."""

    labelled: _Columns  # train and dev files
    test: _Columns  # test files: no label, an index column
    labels: tuple  # label strings in id order; () for regression
    dev_files: tuple = ("dev.tsv",)
    test_files: tuple = ("test.tsv",)


# QNLI, RTE, WNLI: `index, text_a, text_b, label`; their test files drop the label.
_PAIR_WITH_INDEX = dict(labelled=_Columns(1, 2, label=3, id=0, num_columns=(4,)),
                        test=_Columns(1, 2, id=0, num_columns=(3,)))


# The official GLUE distribution's layouts (gluebenchmark.com's zips; MRPC as its download_glue_data.py writes it).
GLUE_TASKS = {
    # train/dev: no header, `source, label, original label (often empty), sentence`; test: `index, sentence`.
    "cola": _Layout(_Columns(3, label=1, num_columns=(4,), header=False), _Columns(1, id=0, num_columns=(2,)),
                    labels=("0", "1")),
    # `sentence, label`; test: `index, sentence`.
    "sst2": _Layout(_Columns(0, label=1, num_columns=(2,)), _Columns(1, id=0, num_columns=(2,)), labels=("0", "1")),
    # `Quality, #1 ID, #2 ID, #1 String, #2 String` (train/dev start with a byte-order mark); test: `index, ...`.
    "mrpc": _Layout(_Columns(3, 4, label=0, num_columns=(5,)), _Columns(3, 4, id=0, num_columns=(5,)),
                    labels=("0", "1")),
    # `index, genre, filename, year, old_index, source1, source2, sentence1, sentence2, score`; test: no score.
    "stsb": _Layout(_Columns(7, 8, label=9, id=0, num_columns=(10,)), _Columns(7, 8, id=0, num_columns=(9,)),
                    labels=()),
    # `id, qid1, qid2, question1, question2, is_duplicate`; test: `id, question1, question2`.
    "qqp": _Layout(_Columns(3, 4, label=5, id=0, num_columns=(6,)), _Columns(1, 2, id=0, num_columns=(3,)),
                   labels=("0", "1")),
    # `index, promptID, pairID, genre, 4 parses, sentence1, sentence2`, then train: `label1, gold_label`,
    # dev: `label1` ... `label5, gold_label`; test: nothing after sentence2.
    "mnli": _Layout(
        _Columns(8, 9, label=-1, id=0, num_columns=(12, 16)),
        _Columns(8, 9, id=0, num_columns=(10,)),
        labels=("contradiction", "entailment", "neutral"),
        dev_files=("dev_matched.tsv", "dev_mismatched.tsv"),
        test_files=("test_matched.tsv", "test_mismatched.tsv"),
    ),
    "qnli": _Layout(labels=("entailment", "not_entailment"), **_PAIR_WITH_INDEX),
    "rte": _Layout(labels=("entailment", "not_entailment"), **_PAIR_WITH_INDEX),
    "wnli": _Layout(labels=("0", "1"), **_PAIR_WITH_INDEX),
}
# The diagnostic set (AX.tsv, `index, sentence1, sentence2`): unlabelled MNLI pairs, scored with an MNLI model.
DIAGNOSTIC_FILE = "AX.tsv"
_DIAGNOSTIC = _Columns(1, 2, id=0, num_columns=(3,))


@dataclasses.dataclass
class GlueExamples:
    """One split of a GLUE task (or any sentence(-pair) classification file).

    Attributes:
        text_a: list of str, the first sentences.
        text_b: list of str, the second sentences, or None for single-sentence tasks.
        labels: list of int label ids, or float scores (STS-B); None for an
            unlabelled (test) file.
        label_names: the label strings in id order; () for regression.
        source: the file read.
        ids: list of str, each example's `index`/`id` in its file (what the
            GLUE leaderboard keys predictions by), or None when the file has
            no such column (CoLA, SST-2 and MRPC train and dev files).
        skipped_lines: the line numbers of the bad rows skipped while reading
            (`skip_bad_rows=True`).

    Example:
    >>> examples = GlueExamples(["a fine film", "dull"], None, [1, 0], ("0", "1"), "train.tsv")
    >>> len(examples), examples.first(1).text_a, examples.first(1).labels
    (2, ['a fine film'], [1])
    >>> test = GlueExamples(["a fine film"], None, None, ("0", "1"), "test.tsv", ids=["0"])
    >>> test.labels is None, test.ids
    (True, ['0'])
    """

    text_a: list
    text_b: list
    labels: list
    label_names: tuple
    source: str
    ids: list = None
    skipped_lines: tuple = ()

    def first(self, n):
        """The first `n` examples (a smaller training set, for learning curves or quick runs)."""

        def cut(values):
            return None if values is None else values[:n]

        return dataclasses.replace(self, text_a=self.text_a[:n], text_b=cut(self.text_b), labels=cut(self.labels),
                                   ids=cut(self.ids))

    def __len__(self):
        return len(self.text_a)


def glue_files(task, split):
    """The official file names of a task's split.

    Args:
        task: a GLUE task name (a key of `GLUE_TASKS`).
        split: `"train"`, `"dev"` or `"test"`.

    Returns:
        tuple of str. (MNLI's diagnostic set, `AX.tsv`, is optional and not
        listed; `read_glue_split(..., "test")` adds it when present.)

    Example:
    >>> glue_files("mnli", "dev"), glue_files("cola", "test")
    (('dev_matched.tsv', 'dev_mismatched.tsv'), ('test.tsv',))
    """
    layout = _layout(task)
    files = {"train": ("train.tsv",), "dev": layout.dev_files, "test": layout.test_files}
    if split not in files:
        raise ValueError(f"Unknown split {split!r}; use 'train', 'dev' or 'test'.")
    return files[split]


def read_glue_tsv(task, path, *, labelled=True, skip_bad_rows=False):
    """Reads one official GLUE TSV file of `task`.

    Tabs separate the columns and quotes are text (`csv.QUOTE_NONE`): GLUE's
    files never quote, and many sentences start with a `"`.

    Args:
        task: a GLUE task name (a key of `GLUE_TASKS`), or `"ax"` for the
            diagnostic set `AX.tsv` (unlabelled, MNLI's labels).
        path: str or path of the file.
        labelled: bool. True for train and dev files; False for the test
            files' layout (no label, an index column).
        skip_bad_rows: bool. False: a bad row raises. True: bad rows (a wrong
            number of columns, a label outside the task's set, a score that is
            not a number) are skipped, counted in `skipped_lines` and logged
            as one warning naming the file, the count and the first lines.

    Returns:
        `GlueExamples`; `labels` is None when `labelled=False`.

    Raises:
        FileNotFoundError: the file is missing.
        ValueError: naming the file and line of a bad row (unless skipped), or
            a file with no examples.

    Example:
    >>> import tempfile
    >>> path = tempfile.mktemp()
    >>> _ = open(path, "w").write("sentence\\tlabel\\na fine film\\t1\\n")
    >>> read_glue_tsv("sst2", path).labels
    [1]
    >>> _ = open(path, "w").write('index\\tsentence\\n0\\ta "fine" film\\n')
    >>> test = read_glue_tsv("sst2", path, labelled=False)
    >>> test.text_a, test.labels, test.ids
    (['a "fine" film'], None, ['0'])
    """
    if task == "ax":
        if labelled:
            raise ValueError(f"{path}: the diagnostic set (ax) has no labels; read it with labelled=False.")
        columns, label_names = _DIAGNOSTIC, GLUE_TASKS["mnli"].labels
    else:
        layout = _layout(task)
        columns, label_names = (layout.labelled if labelled else layout.test), layout.labels
    path = os.fspath(path)
    kind = f"{task} {'train/dev' if labelled else 'test'}"
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{task}: no file {path!r}; expected the official GLUE {os.path.basename(path)}.")
    with open_utf8(path) as f:  # a leading byte-order mark (MRPC's) is dropped
        rows = list(csv_rows(csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE), path, with_lines=True))
    if columns.header:
        rows = rows[1:]
    if not rows:
        raise ValueError(f"{path}: no examples; the file is empty.")
    text_a, text_b, labels, ids = [], [], [], []
    bad_rows = BadRows(path, skip_bad_rows)
    for line, row in rows:
        try:
            label = _check_row(row, columns, label_names, kind)
        except _BadRow as problem:
            bad_rows.found(line, problem)
            continue
        text_a.append(row[columns.text_a])
        if columns.text_b >= 0:
            text_b.append(row[columns.text_b])
        labels.append(label)
        if columns.id is not None:
            ids.append(row[columns.id])
    bad_rows.finish(len(rows), len(text_a))
    return GlueExamples(
        text_a,
        text_b if columns.text_b >= 0 else None,
        labels if columns.label is not None else None,
        label_names,
        path,
        ids=ids if columns.id is not None else None,
        skipped_lines=bad_rows.lines,
    )


def read_glue_split(task, data_dir, split, *, skip_bad_rows=False):
    """`{file name: GlueExamples}` for a split; MNLI's dev and test sets are matched and mismatched.

    Args:
        task: a GLUE task name (a key of `GLUE_TASKS`).
        data_dir: str. The task's folder of official TSV files.
        split: `"train"` (`train.tsv`), `"dev"` (`dev.tsv`; MNLI's
            `dev_matched.tsv` and `dev_mismatched.tsv`) or `"test"`
            (`test.tsv`; MNLI's `test_matched.tsv`, `test_mismatched.tsv`
            and the diagnostic `AX.tsv` when it is in `data_dir`). Test
            examples have `labels=None` and their `ids`.
        skip_bad_rows: bool, as `read_glue_tsv`.

    Example:
    >>> import os, tempfile
    >>> data_dir = tempfile.mkdtemp()
    >>> _ = open(os.path.join(data_dir, "dev.tsv"), "w").write(
    ...     "index\\tsentence1\\tsentence2\\tlabel\\n0\\tIt rains.\\tIt is wet.\\tentailment\\n")
    >>> {name: (split.text_b, split.labels) for name, split in read_glue_split("rte", data_dir, "dev").items()}
    {'dev.tsv': (['It is wet.'], [0])}
    >>> _ = open(os.path.join(data_dir, "test.tsv"), "w").write(
    ...     "index\\tsentence1\\tsentence2\\n7\\tIt rains.\\tIt is dry.\\n")
    >>> {name: (split.ids, split.labels) for name, split in read_glue_split("rte", data_dir, "test").items()}
    {'test.tsv': (['7'], None)}
    """
    labelled = split != "test"
    splits = {
        name: read_glue_tsv(task, os.path.join(data_dir, name), labelled=labelled, skip_bad_rows=skip_bad_rows)
        for name in glue_files(task, split)
    }
    diagnostic = os.path.join(data_dir, DIAGNOSTIC_FILE)
    if task == "mnli" and split == "test" and os.path.isfile(diagnostic):
        splits[DIAGNOSTIC_FILE] = read_glue_tsv("ax", diagnostic, labelled=False, skip_bad_rows=skip_bad_rows)
    return splits


def _layout(task):
    if task not in GLUE_TASKS:
        raise ValueError(f"Unknown GLUE task {task!r}; choose one of {sorted(GLUE_TASKS)}.")
    return GLUE_TASKS[task]


class _BadRow(Exception):
    """What is wrong with one row; the reader adds the file and line."""


def _check_row(row, columns, label_names, kind):
    """The row's label (None for unlabelled files), or `_BadRow`."""
    if len(row) not in columns.num_columns:
        counts = " or ".join(str(n) for n in columns.num_columns)
        raise _BadRow(f"{len(row)} tab-separated columns, but {kind} files have {counts} (is this the right task "
                      "and file? a tab or line break inside a text also splits a row)")
    if columns.label is None:
        return None
    value = row[columns.label]
    if not label_names:
        try:
            score = float(value)
        except ValueError:
            score = math.nan
        if not math.isfinite(score):
            raise _BadRow(f"score {value!r} is not a number")
        return score
    if value not in label_names:
        raise _BadRow(f"label {value!r} is not one of {list(label_names)}")
    return label_names.index(value)


# tensorflow-datasets' GLUE feature names per task, and its validation splits.
_TFDS_TEXT_FEATURES = {
    "cola": ("sentence", None),
    "sst2": ("sentence", None),
    "mrpc": ("sentence1", "sentence2"),
    "stsb": ("sentence1", "sentence2"),
    "qqp": ("question1", "question2"),
    "mnli": ("premise", "hypothesis"),
    "qnli": ("question", "sentence"),
    "rte": ("sentence1", "sentence2"),
    "wnli": ("sentence1", "sentence2"),
}


def tfds_splits(task, split):
    """tensorflow-datasets' split names for our `train` / `dev` / `test`.

    Example:
    >>> tfds_splits("mnli", "dev"), tfds_splits("sst2", "dev"), tfds_splits("sst2", "train")
    (('validation_matched', 'validation_mismatched'), ('validation',), ('train',))
    >>> tfds_splits("mnli", "test"), tfds_splits("rte", "test")
    (('test_matched', 'test_mismatched'), ('test',))
    """
    glue_files(task, split)  # checks both
    if split == "train":
        return ("train",)
    if task == "mnli":
        return ("validation_matched", "validation_mismatched") if split == "dev" else ("test_matched", "test_mismatched")
    return ("validation",) if split == "dev" else ("test",)


def read_glue_tfds(task, split, data_dir=None):
    """Reads `glue/<task>` through tensorflow-datasets into `GlueExamples`.

    Label ids and names follow the dataset's own `ClassLabel` (its MNLI order
    is entailment, neutral, contradiction).

    Args:
        task: a GLUE task name.
        split: a tensorflow-datasets split, e.g. `"train"`, `"validation"`,
            `"test"` (test splits: `labels=None`, `ids` the `idx` feature).
        data_dir: optional tensorflow-datasets data directory.

    Example:
    Offline, on tensorflow-datasets' mock data (random text, the real features):
    >>> import tensorflow_datasets as tfds
    >>> with tfds.testing.mock_data(num_examples=3):
    ...     examples = read_glue_tfds("rte", "validation")
    ...     test = read_glue_tfds("rte", "test")
    >>> len(examples), examples.label_names, examples.source
    (3, ('entailment', 'not_entailment'), 'tfds:glue/rte:validation')
    >>> test.labels, len(test.ids)
    (None, 3)
    """
    import tensorflow_datasets as tfds  # optional at import time: only this reader needs it

    first, second = _TFDS_TEXT_FEATURES[task]
    dataset, info = tfds.load(f"glue/{task}", split=split, data_dir=data_dir, with_info=True)
    label_feature = info.features["label"]
    label_names = tuple(label_feature.names) if hasattr(label_feature, "names") else ()
    text_a, text_b, labels, ids = [], [], [], []
    for example in dataset.as_numpy_iterator():
        text_a.append(example[first].decode("utf-8"))
        if second:
            text_b.append(example[second].decode("utf-8"))
        labels.append(float(example["label"]) if not label_names else int(example["label"]))
        ids.append(str(example["idx"]))
    if not text_a:
        raise ValueError(f"glue/{task} split {split!r} has no examples.")
    unlabelled = split.startswith("test")  # GLUE keeps its test labels private; tensorflow-datasets writes -1
    return GlueExamples(text_a, text_b if second else None, None if unlabelled else labels, label_names,
                        f"tfds:glue/{task}:{split}", ids=ids)
