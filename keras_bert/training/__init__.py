"""Training: optimizer, learning-rate schedule, distribution, pretraining and fine-tuning loops."""

from keras_bert.training import distribution

from keras_bert.training.fine_tuning import (
    TrainingSteps,
    compile_classifier,
    compile_for_fine_tuning,
    compile_tagger,
    confusion_matrix,
    fit_for_steps,
    predict_classifier,
    predict_logits,
    training_steps,
)
from keras_bert.training.optimizer import create_optimizer
from keras_bert.training.pretraining import pretrain, restore_run
from keras_bert.training.warmup_linear_decay import WarmupLinearDecay

__all__ = [
    "TrainingSteps",
    "WarmupLinearDecay",
    "compile_classifier",
    "compile_for_fine_tuning",
    "compile_tagger",
    "confusion_matrix",
    "create_optimizer",
    "fit_for_steps",
    "predict_classifier",
    "predict_logits",
    "pretrain",
    "restore_run",
    "training_steps",
]
