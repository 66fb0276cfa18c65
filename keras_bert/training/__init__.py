"""Training: optimizer, learning-rate schedule, fine-tuning helpers."""

from keras_bert.training.fine_tuning import (
    compile_classifier,
    compile_for_fine_tuning,
    compile_tagger,
    confusion_matrix,
    predict_classifier,
    predict_logits,
)
from keras_bert.training.optimizer import create_optimizer
from keras_bert.training.warmup_linear_decay import WarmupLinearDecay

__all__ = [
    "WarmupLinearDecay",
    "compile_classifier",
    "compile_for_fine_tuning",
    "compile_tagger",
    "confusion_matrix",
    "create_optimizer",
    "predict_classifier",
    "predict_logits",
]
