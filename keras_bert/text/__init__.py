"""Text to BERT inputs: vocabulary files, WordPiece tokenizer, input packing."""

from keras_bert.text.bert_preprocessor import BertPreprocessor
from keras_bert.text.bert_tokenizer import BertTokenizer
from keras_bert.text.masking import mask_tokens
from keras_bert.text.normalization import normalize_text
from keras_bert.text.packing import pack_segments
from keras_bert.text.vocab import load_vocab
from keras_bert.text.vocab_learner import learn_vocab

__all__ = ["BertPreprocessor", "BertTokenizer", "learn_vocab", "load_vocab", "mask_tokens", "normalize_text", "pack_segments"]
