"""Test-set predictions in the format the GLUE leaderboard (gluebenchmark.com) takes.

A submission is a zip of one `{TASK}.tsv` per test set (`CoLA.tsv`, `SST-2.tsv`, `MRPC.tsv`,
`STS-B.tsv`, `QQP.tsv`, `MNLI-m.tsv`, `MNLI-mm.tsv`, `QNLI.tsv`, `RTE.tsv`, `WNLI.tsv`, `AX.tsv`),
each with the header `index<TAB>prediction` and one row per test example: its `index` from the
test file and the predicted label as the task's files write it (`0`/`1`, `entailment`, ...) or,
for STS-B, a score in [0, 5].
"""

import os

from keras_bert.data.glue import DIAGNOSTIC_FILE, GLUE_TASKS

# The leaderboard's name of each task's test set.
GLUE_LEADERBOARD_NAMES = {
    "cola": "CoLA",
    "sst2": "SST-2",
    "mrpc": "MRPC",
    "stsb": "STS-B",
    "qqp": "QQP",
    "mnli": "MNLI",
    "qnli": "QNLI",
    "rte": "RTE",
    "wnli": "WNLI",
}
STSB_SCORE_RANGE = (0.0, 5.0)
# tensorflow-datasets' label names where they differ from the files' (same ids): `read_glue_tfds` gives these.
_TFDS_LABEL_NAMES = {
    "cola": ("unacceptable", "acceptable"),
    "sst2": ("negative", "positive"),
    "mrpc": ("not_equivalent", "equivalent"),
    "qqp": ("not_duplicate", "duplicate"),
    "wnli": ("not_entailment", "entailment"),
}


def leaderboard_file_name(task, test_set):
    """The leaderboard's file name for the predictions on one test set of `task`.

    Args:
        task: a GLUE task name (a key of `GLUE_TASKS`).
        test_set: str, the test file (`test.tsv`, MNLI's `test_matched.tsv`,
            `test_mismatched.tsv` or `AX.tsv`) or tensorflow-datasets split
            (`test`, `test_matched`, `test_mismatched`).

    Example:
    >>> leaderboard_file_name("sst2", "test.tsv"), leaderboard_file_name("mnli", "test_mismatched")
    ('SST-2.tsv', 'MNLI-mm.tsv')
    >>> leaderboard_file_name("mnli", "AX.tsv")
    'AX.tsv'
    """
    if task not in GLUE_LEADERBOARD_NAMES:
        raise ValueError(f"Unknown GLUE task {task!r}; choose one of {sorted(GLUE_LEADERBOARD_NAMES)}.")
    name = os.path.splitext(os.path.basename(test_set))[0]
    if task == "mnli":
        names = {"test_matched": "MNLI-m.tsv", "test_mismatched": "MNLI-mm.tsv",
                 os.path.splitext(DIAGNOSTIC_FILE)[0]: DIAGNOSTIC_FILE}
    else:
        names = {"test": GLUE_LEADERBOARD_NAMES[task] + ".tsv"}
    if name not in names:
        raise ValueError(f"{test_set!r} is not a GLUE test set of {task}; expected one of {_test_set_names(task)}.")
    return names[name]


def prediction_strings(predictions, label_names, task=None):
    """The `prediction` column: label names for class ids, or scores.

    Args:
        predictions: class ids, or float scores when `label_names` is empty
            (regression), a sequence or array `(examples,)`.
        label_names: the model's label strings in id order; () for scores.
        task: optional GLUE task name: labels become the ones its files and
            leaderboard use (tensorflow-datasets' `negative`/`positive` for
            SST-2 become `0`/`1`), and STS-B scores are clipped to [0, 5].

    Returns:
        list of str.

    Example:
    >>> prediction_strings([1, 0], ("contradiction", "entailment", "neutral"))
    ['entailment', 'contradiction']
    >>> prediction_strings([1, 0], ("negative", "positive"), task="sst2")
    ['1', '0']
    >>> prediction_strings([5.7, -0.2, 2.5], (), task="stsb")
    ['5.000000', '0.000000', '2.500000']
    """
    if not label_names:
        low, high = STSB_SCORE_RANGE if task == "stsb" else (-float("inf"), float("inf"))
        return [f"{min(max(float(score), low), high):.6f}" for score in predictions]
    names = list(label_names)
    if task in _TFDS_LABEL_NAMES and tuple(names) == _TFDS_LABEL_NAMES[task]:
        names = list(GLUE_TASKS[task].labels)
    if task in GLUE_TASKS and not set(names) <= set(GLUE_TASKS[task].labels):
        raise ValueError(f"label names {tuple(label_names)} are not {task}'s {GLUE_TASKS[task].labels}; was the "
                         f"model trained on another task?")
    return [names[int(label)] for label in predictions]


def write_predictions_tsv(path, ids, predictions, label_names, task=None):
    """Writes `index<TAB>prediction` rows, the GLUE leaderboard's format.

    Args:
        path: str, the file to write (e.g. `OUTPUT_DIR/MNLI-m.tsv`).
        ids: each example's index (the test file's `index`/`id` column).
        predictions, label_names, task: as `prediction_strings`.

    Returns:
        `path`.

    Raises:
        ValueError: `ids` and `predictions` differ in length.

    Example:
    >>> import tempfile
    >>> path = tempfile.mktemp(suffix=".tsv")
    >>> _ = write_predictions_tsv(path, ["0", "1"], [1, 0], ("entailment", "not_entailment"), task="rte")
    >>> open(path).read().splitlines()
    ['index\\tprediction', '0\\tnot_entailment', '1\\tentailment']
    """
    if len(ids) != len(predictions):
        raise ValueError(f"{path}: {len(ids)} ids but {len(predictions)} predictions; predict every test example.")
    rows = ["index\tprediction"] + [f"{i}\t{p}" for i, p in zip(ids, prediction_strings(predictions, label_names,
                                                                                          task))]
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write("\n".join(rows) + "\n")
    return path


def _test_set_names(task):
    return list(GLUE_TASKS[task].test_files) + ([DIAGNOSTIC_FILE] if task == "mnli" else [])
