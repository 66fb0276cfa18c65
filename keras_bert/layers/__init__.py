"""Keras layers that make up BERT."""

from keras_bert.layers.bert_embeddings import BertEmbeddings
from keras_bert.layers.bert_pooler import BertPooler
from keras_bert.layers.dropout import Dropout
from keras_bert.layers.fused_dense import FusedDense
from keras_bert.layers.fused_layer_norm import FusedLayerNorm
from keras_bert.layers.masked_lm_head import MaskedLMHead
from keras_bert.layers.mean_pool import mean_pool
from keras_bert.layers.self_attention import SelfAttention
from keras_bert.layers.token_pooling import TokenPooling
from keras_bert.layers.transformer_block import TransformerBlock

__all__ = [
    "BertEmbeddings",
    "BertPooler",
    "Dropout",
    "FusedDense",
    "FusedLayerNorm",
    "MaskedLMHead",
    "SelfAttention",
    "TokenPooling",
    "TransformerBlock",
    "mean_pool",
]
