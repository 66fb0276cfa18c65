"""Training: optimizer, learning-rate schedule, fine-tuning helpers."""

from keras_bert.training.classifier_training import (
    compile_classifier,
    confusion_matrix,
    predict_classifier,
)
from keras_bert.training.optimizer import create_optimizer
from keras_bert.training.warmup_linear_decay import WarmupLinearDecay

__all__ = [
    "WarmupLinearDecay",
    "compile_classifier",
    "confusion_matrix",
    "create_optimizer",
    "predict_classifier",
]
