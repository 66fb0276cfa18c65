"""Datasets: raw text corpora (pretraining and task readers come later)."""

from keras_bert.data.text_files import expand_file_patterns, text_lines_dataset

__all__ = ["expand_file_patterns", "text_lines_dataset"]
