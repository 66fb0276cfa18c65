"""Text to BERT inputs: vocabulary files, WordPiece tokenizer, input packing."""

from keras_bert.text.bert_preprocessor import BertPreprocessor
from keras_bert.text.bert_tokenizer import BertTokenizer
from keras_bert.text.vocab import load_vocab

__all__ = ["BertPreprocessor", "BertTokenizer", "load_vocab"]
