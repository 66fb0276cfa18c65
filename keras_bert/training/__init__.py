"""Training: optimizer, learning-rate schedule, distribution, the resumable fit, fine-tuning helpers."""

from keras_bert.training import distribution
from keras_bert.training.compile_for_fine_tuning import compile_classifier, compile_for_fine_tuning, compile_tagger
from keras_bert.training.dev_evaluation import DevEvaluation, evaluation_interval
from keras_bert.training.file_prediction import SavedModelPredictor, TrainedModelPredictor, predict_file
from keras_bert.training.fit_for_steps import fit_for_steps
from keras_bert.training.optimizer import create_optimizer
from keras_bert.training.prediction import predict_classifier, predict_logits
from keras_bert.training.resumable_fit import optimizer_step, resumable_fit
from keras_bert.training.run_checkpoints import restore_run
from keras_bert.training.training_steps import TrainingSteps, training_steps
from keras_bert.training.unlabelled_prediction import predict_unlabelled, write_test_predictions
from keras_bert.training.warmup_linear_decay import WarmupLinearDecay

__all__ = [
    "DevEvaluation",
    "SavedModelPredictor",
    "TrainedModelPredictor",
    "TrainingSteps",
    "WarmupLinearDecay",
    "compile_classifier",
    "compile_for_fine_tuning",
    "compile_tagger",
    "create_optimizer",
    "evaluation_interval",
    "fit_for_steps",
    "optimizer_step",
    "predict_classifier",
    "predict_file",
    "predict_logits",
    "predict_unlabelled",
    "restore_run",
    "resumable_fit",
    "training_steps",
    "write_test_predictions",
]
