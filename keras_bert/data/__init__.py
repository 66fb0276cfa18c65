"""Datasets: raw text corpora and task readers, as tf.data pipelines."""

from keras_bert.data.classification_dataset import classification_dataset, trim_to_longest
from keras_bert.data.glue import GLUE_TASKS, GlueExamples, read_glue_split, read_glue_tsv
from keras_bert.data.text_files import expand_file_patterns, text_lines_dataset

__all__ = [
    "GLUE_TASKS",
    "GlueExamples",
    "classification_dataset",
    "expand_file_patterns",
    "read_glue_split",
    "read_glue_tsv",
    "text_lines_dataset",
    "trim_to_longest",
]
