"""Task metrics."""

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

__all__ = [
    "TASK_METRICS",
    "accuracy",
    "conll_scores",
    "entities",
    "f1", "glue_metrics", "matthews_corrcoef", "pearson", "spearman"]
