"""Keras models built from `keras_bert.layers`."""

from keras_bert.models.bert_classifier import BertClassifier
from keras_bert.models.bert_encoder import BertEncoder
from keras_bert.models.bert_feature_tagger import BertFeatureTagger
from keras_bert.models.bert_multiple_choice import BertMultipleChoice
from keras_bert.models.bert_pair_embedder import BertPairEmbedder
from keras_bert.models.bert_pretrainer import BertPretrainer
from keras_bert.models.bert_span_labeler import BertSpanLabeler
from keras_bert.models.bert_text_embedder import BertTextEmbedder
from keras_bert.models.bert_token_classifier import BertTokenClassifier
from keras_bert.models.layer_features import layer_features

__all__ = [
    "BertClassifier",
    "BertEncoder",
    "BertFeatureTagger",
    "BertMultipleChoice",
    "BertPairEmbedder",
    "BertPretrainer",
    "BertSpanLabeler",
    "BertTextEmbedder",
    "BertTokenClassifier",
    "layer_features",
]
