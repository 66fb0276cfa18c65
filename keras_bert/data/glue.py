"""Reading GLUE tasks from the official TSV files."""

import csv
import dataclasses
import os

from keras_bert.data.text_files import csv_rows, open_utf8


@dataclasses.dataclass(frozen=True)
class _Layout:
    """Where a task's columns sit in its official TSV files."""

    text_a: int
    text_b: int  # -1: single-sentence task
    label: int  # -1: the last column
    labels: tuple  # label strings in id order; () for regression
    header: bool = True
    num_columns: int = 0  # 0: any number (MNLI adds annotator columns)
    dev_files: tuple = ("dev.tsv",)


# The official GLUE distribution's layouts.
GLUE_TASKS = {
    "cola": _Layout(text_a=3, text_b=-1, label=1, labels=("0", "1"), header=False, num_columns=4),
    "sst2": _Layout(text_a=0, text_b=-1, label=1, labels=("0", "1"), num_columns=2),
    "mrpc": _Layout(text_a=3, text_b=4, label=0, labels=("0", "1"), num_columns=5),
    "stsb": _Layout(text_a=7, text_b=8, label=9, labels=(), num_columns=10),
    "qqp": _Layout(text_a=3, text_b=4, label=5, labels=("0", "1"), num_columns=6),
    "mnli": _Layout(
        text_a=8,
        text_b=9,
        label=-1,
        labels=("contradiction", "entailment", "neutral"),
        dev_files=("dev_matched.tsv", "dev_mismatched.tsv"),
    ),
    "qnli": _Layout(text_a=1, text_b=2, label=3, labels=("entailment", "not_entailment"), num_columns=4),
    "rte": _Layout(text_a=1, text_b=2, label=3, labels=("entailment", "not_entailment"), num_columns=4),
    "wnli": _Layout(text_a=1, text_b=2, label=3, labels=("0", "1"), num_columns=4),
}


@dataclasses.dataclass
class GlueExamples:
    """One split of a GLUE task.

    Attributes:
        text_a: list of str, the first sentences.
        text_b: list of str, the second sentences, or None for single-sentence tasks.
        labels: list of int label ids, or float scores (STS-B).
        label_names: the label strings in id order; () for regression.
        source: the file read.

    Example:
    >>> examples = GlueExamples(["a fine film", "dull"], None, [1, 0], ("0", "1"), "train.tsv")
    >>> len(examples), examples.first(1).text_a, examples.first(1).labels
    (2, ['a fine film'], [1])
    """

    text_a: list
    text_b: list
    labels: list
    label_names: tuple
    source: str

    def first(self, n):
        """The first `n` examples (a smaller training set, for learning curves or quick runs)."""
        return dataclasses.replace(
            self, text_a=self.text_a[:n], text_b=None if self.text_b is None else self.text_b[:n], labels=self.labels[:n]
        )

    def __len__(self):
        return len(self.text_a)


def glue_files(task, split):
    """The official file names of a task's split (`train`, `dev`)."""
    layout = _layout(task)
    return ("train.tsv",) if split == "train" else layout.dev_files


def read_glue_tsv(task, path):
    """Reads one official GLUE TSV file of `task`.

    Raises:
        FileNotFoundError: the file is missing.
        ValueError: naming the file and line of an empty file, a row with the
            wrong number of columns, or a label outside the task's set.

    Example:
    >>> import tempfile
    >>> path = tempfile.mktemp()
    >>> _ = open(path, "w").write("sentence\\tlabel\\na fine film\\t1\\n")
    >>> read_glue_tsv("sst2", path).labels
    [1]
    """
    layout = _layout(task)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{task}: no file {path!r}; expected the official GLUE {os.path.basename(path)}.")
    # utf-8-sig: MRPC's files start with a byte-order mark.
    with open_utf8(path) as f:
        rows = csv_rows(csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE), path)
    first_line = 2 if layout.header else 1
    rows = rows[1:] if layout.header else rows
    if not rows:
        raise ValueError(f"{path}: no examples; the file is empty.")
    needed = max(layout.text_a, layout.text_b, layout.label) + 1
    text_a, text_b, labels = [], [], []
    for line, row in enumerate(rows, start=first_line):
        if layout.num_columns and len(row) != layout.num_columns or len(row) < needed:
            raise ValueError(
                f"{path}, line {line}: {len(row)} tab-separated columns, but {task} files have "
                f"{layout.num_columns or f'at least {needed}'}; is this the right task or file?"
            )
        text_a.append(row[layout.text_a])
        if layout.text_b >= 0:
            text_b.append(row[layout.text_b])
        labels.append(_label(row[layout.label], layout, path, line))
    return GlueExamples(text_a, text_b if layout.text_b >= 0 else None, labels, layout.labels, path)


def read_glue_split(task, data_dir, split):
    """`{file name: GlueExamples}` for a split; MNLI's dev is matched and mismatched.

    Args:
        task: a GLUE task name (a key of `GLUE_TASKS`).
        data_dir: str. The task's folder of official TSV files.
        split: `"train"` (`train.tsv`) or `"dev"` (`dev.tsv`; MNLI's
            `dev_matched.tsv` and `dev_mismatched.tsv`).

    Example:
    >>> import os, tempfile
    >>> data_dir = tempfile.mkdtemp()
    >>> _ = open(os.path.join(data_dir, "dev.tsv"), "w").write(
    ...     "index\\tsentence1\\tsentence2\\tlabel\\n0\\tIt rains.\\tIt is wet.\\tentailment\\n")
    >>> {name: (split.text_b, split.labels) for name, split in read_glue_split("rte", data_dir, "dev").items()}
    {'dev.tsv': (['It is wet.'], [0])}
    """
    return {name: read_glue_tsv(task, os.path.join(data_dir, name)) for name in glue_files(task, split)}


def _layout(task):
    if task not in GLUE_TASKS:
        raise ValueError(f"Unknown GLUE task {task!r}; choose one of {sorted(GLUE_TASKS)}.")
    return GLUE_TASKS[task]


def _label(value, layout, path, line):
    if not layout.labels:
        try:
            return float(value)
        except ValueError:
            raise ValueError(f"{path}, line {line}: score {value!r} is not a number.") from None
    if value not in layout.labels:
        raise ValueError(
            f"{path}, line {line}: label {value!r} is not one of {list(layout.labels)}."
        )
    return layout.labels.index(value)


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
    """tensorflow-datasets' split names for our `train` / `dev`.

    Example:
    >>> tfds_splits("mnli", "dev"), tfds_splits("sst2", "dev"), tfds_splits("sst2", "train")
    (('validation_matched', 'validation_mismatched'), ('validation',), ('train',))
    """
    _layout(task)
    if split == "train":
        return ("train",)
    return ("validation_matched", "validation_mismatched") if task == "mnli" else ("validation",)


def read_glue_tfds(task, split, data_dir=None):
    """Reads `glue/<task>` through tensorflow-datasets into `GlueExamples`.

    Label ids and names follow the dataset's own `ClassLabel` (its MNLI order
    is entailment, neutral, contradiction).

    Args:
        task: a GLUE task name.
        split: a tensorflow-datasets split, e.g. `"train"`, `"validation"`.
        data_dir: optional tensorflow-datasets data directory.

    Example:
    Offline, on tensorflow-datasets' mock data (random text, the real features):
    >>> import tensorflow_datasets as tfds
    >>> with tfds.testing.mock_data(num_examples=3):
    ...     examples = read_glue_tfds("rte", "validation")
    >>> len(examples), examples.label_names, examples.source
    (3, ('entailment', 'not_entailment'), 'tfds:glue/rte:validation')
    """
    import tensorflow_datasets as tfds  # optional at import time: only this reader needs it

    first, second = _TFDS_TEXT_FEATURES[task]
    dataset, info = tfds.load(f"glue/{task}", split=split, data_dir=data_dir, with_info=True)
    label_feature = info.features["label"]
    label_names = tuple(label_feature.names) if hasattr(label_feature, "names") else ()
    text_a, text_b, labels = [], [], []
    for example in dataset.as_numpy_iterator():
        text_a.append(example[first].decode("utf-8"))
        if second:
            text_b.append(example[second].decode("utf-8"))
        labels.append(float(example["label"]) if not label_names else int(example["label"]))
    if not labels:
        raise ValueError(f"glue/{task} split {split!r} has no examples.")
    return GlueExamples(text_a, text_b if second else None, labels, label_names, f"tfds:glue/{task}:{split}")
