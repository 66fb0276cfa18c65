"""Datasets: raw text corpora and task readers, as tf.data pipelines."""

from keras_bert.data.classification_dataset import classification_dataset, trim_to_longest
from keras_bert.data.conll import ConllSentences, read_conll
from keras_bert.data.csv_task import read_labelled_csv
from keras_bert.data.glue import (
    GLUE_TASKS,
    GlueExamples,
    glue_files,
    read_glue_split,
    read_glue_tfds,
    read_glue_tsv,
    tfds_splits,
)
from keras_bert.data.glue_submission import GLUE_LEADERBOARD_NAMES, leaderboard_file_name, write_predictions_tsv
from keras_bert.data.multiple_choice import MultipleChoiceExamples, multiple_choice_dataset, read_swag_csv
from keras_bert.data.pretraining_data import (
    PretrainingInstance, create_instances, create_packed_instances, read_documents,
)
from keras_bert.data.pretraining_records import make_pretraining_records, write_instances
from keras_bert.data.pretraining_dataset import MaskingOptions, check_records, pretraining_dataset, record_layout
from keras_bert.data.squad import (
    SquadExample,
    apply_null_score_threshold,
    read_squad,
    squad_answers,
    squad_best_answers,
    squad_dataset,
    squad_features,
)
from keras_bert.data.text_files import expand_file_patterns, text_lines_dataset
from keras_bert.data.text_pairs import TextPairs, glue_text_pairs, read_text_pairs, text_pairs_dataset
from keras_bert.data.token_classification import (
    token_classification_dataset,
    token_classification_features,
    word_predictions,
)
from keras_bert.features import IGNORED_LABEL

__all__ = [
    "ConllSentences",
    "GLUE_LEADERBOARD_NAMES",
    "GLUE_TASKS",
    "IGNORED_LABEL",
    "MaskingOptions",
    "MultipleChoiceExamples",
    "PretrainingInstance",
    "SquadExample",
    "GlueExamples",
    "TextPairs",
    "apply_null_score_threshold",
    "check_records",
    "classification_dataset",
    "create_instances",
    "create_packed_instances",
    "expand_file_patterns",
    "glue_files",
    "glue_text_pairs",
    "leaderboard_file_name",
    "make_pretraining_records",
    "multiple_choice_dataset",
    "pretraining_dataset",
    "read_documents",
    "read_conll",
    "read_glue_split",
    "read_glue_tfds",
    "read_glue_tsv",
    "read_labelled_csv",
    "read_squad",
    "read_swag_csv",
    "read_text_pairs",
    "record_layout",
    "squad_answers",
    "squad_best_answers",
    "squad_dataset",
    "squad_features",
    "text_lines_dataset",
    "text_pairs_dataset",
    "tfds_splits",
    "token_classification_dataset",
    "token_classification_features",
    "trim_to_longest",
    "word_predictions",
    "write_instances",
    "write_predictions_tsv",
]

# Files to predict and prediction files (examples/predict.py).
from keras_bert.data.prediction_io import (  # noqa: E402
    LabelWriter,
    Progress,
    SentenceFile,
    TaggingChunk,
    TaggingFile,
    TagWriter,
    open_sentence_file,
    open_tagging_file,
)

__all__ += [
    "LabelWriter",
    "Progress",
    "SentenceFile",
    "TagWriter",
    "TaggingChunk",
    "TaggingFile",
    "open_sentence_file",
    "open_tagging_file",
]
