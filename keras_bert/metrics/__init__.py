"""Task metrics."""

from keras_bert.metrics.glue_metrics import (
    TASK_METRICS,
    accuracy,
    f1,
    glue_metrics,
    matthews_corrcoef,
    pearson,
    spearman,
)

__all__ = ["TASK_METRICS", "accuracy", "f1", "glue_metrics", "matthews_corrcoef", "pearson", "spearman"]
