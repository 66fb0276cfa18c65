"""Keras models built from `keras_bert.layers`."""

from keras_bert.models.bert_classifier import BertClassifier
from keras_bert.models.bert_encoder import BertEncoder

__all__ = ["BertClassifier", "BertEncoder"]
