"""Task metrics."""

from keras_bert.metrics.confusion_matrix import confusion_matrix
from keras_bert.metrics.conll_metrics import conll_scores, entities
from keras_bert.metrics.glue_metrics import (
    TASK_METRICS,
    accuracy,
    f1,
    glue_metrics,
    matthews_corrcoef,
    pearson,
    spearman,
)
from keras_bert.metrics.squad_metrics import normalize_answer, squad_scores, squad_v2_scores

__all__ = [
    "TASK_METRICS",
    "accuracy",
    "confusion_matrix",
    "conll_scores",
    "entities",
    "f1",
    "glue_metrics",
    "matthews_corrcoef",
    "normalize_answer",
    "pearson",
    "spearman",
    "squad_scores",
    "squad_v2_scores",
]
