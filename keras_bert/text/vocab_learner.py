"""`learn_vocab`: a WordPiece vocabulary learned from text, on tensorflow-text's learner."""

import keras
import tensorflow as tf
# The splitter and learner that tensorflow-text's bert_vocab_from_dataset uses;
# called directly so the text gets our normalization and a progress bar.
from tensorflow_text.python.ops.bert_tokenizer import BasicTokenizer
from tensorflow_text.tools.wordpiece_vocab import wordpiece_tokenizer_learner_lib as learner

from keras_bert.text.normalization import normalize_text
from keras_bert.text.vocab import SPECIAL_TOKENS


def learn_vocab(texts, vocab_size, lower_case=True, num_unused=0, progress=True, **learn_params):
    """Learns a BERT WordPiece vocabulary from a dataset of strings.

    Text goes through the same cleaning and normalization as `BertTokenizer`
    and is split into words by BERT's rules (whitespace, punctuation, CJK
    ideographs); tensorflow-text's learner then picks the pieces.

    Args:
        texts: `tf.data.Dataset` of string scalars or `(batch,)` vectors.
        vocab_size: int. The largest vocabulary to return (the learner lands
            within 5% below it).
        lower_case: bool. Learn an uncased vocabulary. Defaults to `True`.
        num_unused: int. `[unused0]`... placeholders after the special tokens,
            for tokens added later without changing ids. Defaults to `0`.
        progress: bool. Show a progress bar while counting words.
        **learn_params: passed to tensorflow-text's `learn` (e.g.
            `max_token_length`, `max_unique_chars`).

    Returns:
        The vocabulary, a list of str: `[PAD] [UNK] [CLS] [SEP] [MASK]`, the
        unused placeholders, then the learned pieces (suffixes as `##piece`).

    Example:
    >>> texts = tf.data.Dataset.from_tensor_slices(["low lower lowest"] * 20)
    >>> vocab = learn_vocab(texts, vocab_size=40, progress=False, lower_thresh=1)
    >>> vocab[:5], "low" in vocab
    (['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'], True)
    """
    if vocab_size <= len(SPECIAL_TOKENS) + num_unused:
        raise ValueError(
            f"vocab_size={vocab_size} leaves no room for learned pieces after "
            f"{len(SPECIAL_TOKENS) + num_unused} reserved tokens; use a larger vocab_size."
        )
    splitter = BasicTokenizer(lower_case=False)
    words = texts.map(
        lambda text: splitter.tokenize(normalize_text(text, lower_case)).flat_values,
        num_parallel_calls=tf.data.AUTOTUNE,
    )
    batches = words.as_numpy_iterator()
    if progress:
        batches = _with_progress_bar(batches, texts.cardinality().numpy())
    word_counts = learner.count_words(batches)
    if not word_counts:
        raise ValueError("The texts hold no words; check the input files are not empty.")
    reserved = list(SPECIAL_TOKENS) + [f"[unused{i}]" for i in range(num_unused)]
    return learner.learn(word_counts, vocab_size, reserved, **learn_params)


def _with_progress_bar(iterable, total):
    bar = keras.utils.Progbar(total if total > 0 else None, unit_name="batch")
    for item in iterable:
        yield item
        bar.add(1)
