"""GLUE's metrics: accuracy, F1, Matthews correlation, Pearson and Spearman."""

import numpy as np

# Which metrics each task reports (GLUE's definitions).
TASK_METRICS = {
    "cola": ("matthews_corrcoef", "accuracy"),
    "sst2": ("accuracy",),
    "mrpc": ("f1", "accuracy"),
    "stsb": ("pearson", "spearman"),
    "qqp": ("f1", "accuracy"),
    "mnli": ("accuracy",),
    "qnli": ("accuracy",),
    "rte": ("accuracy",),
    "wnli": ("accuracy",),
}


def accuracy(labels, predictions):
    """Share of exact matches.

    Args:
        labels: true label ids, a sequence or array `(examples,)`.
        predictions: predicted label ids, `(examples,)`.

    Example:
    >>> accuracy([0, 1, 2, 2], [0, 1, 1, 2])
    0.75
    """
    return float(np.mean(np.asarray(labels) == np.asarray(predictions)))


def f1(labels, predictions, positive=1):
    """F1 of the `positive` class (MRPC, QQP); 0 when it is never predicted nor present.

    Example:
    >>> round(f1([1, 1, 0, 0], [1, 0, 1, 0]), 3)
    0.5
    """
    labels, predictions = np.asarray(labels), np.asarray(predictions)
    true_pos = np.sum((predictions == positive) & (labels == positive))
    denominator = np.sum(predictions == positive) + np.sum(labels == positive)
    return float(2 * true_pos / denominator) if denominator else 0.0


def matthews_corrcoef(labels, predictions):
    """Matthews correlation of binary labels (CoLA); 0 when undefined.

    Example:
    >>> matthews_corrcoef([1, 1, 0, 0], [1, 1, 0, 0]), matthews_corrcoef([1, 0], [1, 1])
    (1.0, 0.0)
    """
    labels, predictions = np.asarray(labels) == 1, np.asarray(predictions) == 1
    tp = float(np.sum(labels & predictions))
    tn = float(np.sum(~labels & ~predictions))
    fp = float(np.sum(~labels & predictions))
    fn = float(np.sum(labels & ~predictions))
    denominator = np.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
    return float((tp * tn - fp * fn) / denominator) if denominator else 0.0


def pearson(x, y):
    """Pearson correlation (STS-B).

    Args:
        x, y: float scores, sequences or arrays `(examples,)` of one length.

    Example:
    >>> round(pearson([1, 2, 3, 4], [2, 4, 6, 8]), 6), round(pearson([1, 2, 3], [3, 2, 1]), 6)
    (1.0, -1.0)
    >>> round(pearson([0.0, 1.0, 2.0, 3.0], [1.0, 3.0, 2.0, 5.0]), 4)
    0.8315
    """
    return float(np.corrcoef(np.asarray(x, float), np.asarray(y, float))[0, 1])


def spearman(x, y):
    """Spearman rank correlation, ties sharing their average rank (STS-B).

    Example:
    >>> round(spearman([1, 2, 3, 4], [10, 20, 20, 40]), 6)
    0.948683
    """
    return pearson(_average_ranks(x), _average_ranks(y))


def _average_ranks(values):
    values = np.asarray(values, float)
    order = np.argsort(values, kind="stable")
    ranks = np.empty(len(values))
    ranks[order] = np.arange(len(values))
    # Tied values share the mean of the ranks they span.
    _, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    sums = np.bincount(inverse, weights=ranks)
    return sums[inverse] / counts[inverse]


_FUNCTIONS = {
    "accuracy": accuracy,
    "f1": f1,
    "matthews_corrcoef": matthews_corrcoef,
    "pearson": pearson,
    "spearman": spearman,
}


def glue_metrics(task, labels, predictions):
    """The metrics GLUE reports for `task`, as `{name: value}`.

    Args:
        task: a key of `TASK_METRICS` (e.g. `"mrpc"`).
        labels: true label ids, or scores for STS-B.
        predictions: predicted label ids, or scores for STS-B.

    Example:
    >>> glue_metrics("mrpc", [1, 0, 1, 1], [1, 0, 0, 1])
    {'f1': 0.8, 'accuracy': 0.75}
    """
    if task not in TASK_METRICS:
        raise ValueError(f"Unknown GLUE task {task!r}; known: {sorted(TASK_METRICS)}.")
    return {name: _FUNCTIONS[name](labels, predictions) for name in TASK_METRICS[task]}
