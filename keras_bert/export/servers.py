"""The `tf.Module`s behind exported SavedModels: raw strings in, task answers out.

Each holds a fine-tuned model and its tokenizer, and does all text handling
with TensorFlow and tensorflow-text ops, so the SavedModel serves without
Python preprocessing. Text is first transcoded to valid UTF-8 (invalid
bytes become U+FFFD, which the tokenizer drops), so character offsets and
answer substrings are well defined for any input bytes.
"""

import tensorflow as tf

from keras_bert.data.classification_dataset import trim_to_longest
from keras_bert.text.packing import pack_segments
from keras_bert.text.windowing import context_values, pack_question_windows
from keras_bert.text.word_alignment import first_piece_positions


def _valid_utf8(text):
    return tf.strings.unicode_transcode(text, "UTF-8", "UTF-8", errors="replace", replacement_char=0xFFFD)


def check_label_names(label_names, num_classes, kind):
    """Raises `ValueError` unless there is one label name per output (none needed for regression)."""
    if num_classes == 1 and not label_names:
        return
    if label_names is None or len(label_names) != num_classes:
        count = "no" if label_names is None else len(label_names)
        raise ValueError(f"{count} label names for a {kind} with {num_classes} outputs; pass label_names.")


class ClassifierServer(tf.Module):
    """Label probabilities for one string, or a pair, per row; a score for regression (no labels).

    Each batch is cut to its longest text, so short texts cost little,
    unless `trim=False` (TFLite: its kernels want the fixed length).
    """

    def __init__(self, model, preprocessor, label_names, trim=True):
        super().__init__()
        self.trim = trim
        if model.num_classes == 1:
            label_names = []  # regression: serves a score
        check_label_names(label_names, model.num_classes, "classifier")
        self.model = model
        self.preprocessor = preprocessor
        self.label_names = tf.constant(list(label_names), tf.string)

    def serving_function(self, pair=False):
        """`classify` as a `tf.function` of named string inputs: `text`, or `text_a` and `text_b`."""
        text = tf.TensorSpec([None], tf.string)
        if pair:
            return tf.function(lambda text_a, text_b: self.classify((text_a, text_b)), input_signature=[text, text])
        return tf.function(lambda text: self.classify(text), input_signature=[text])

    def classify(self, segments):
        inputs = self.preprocessor(segments)
        # Cut to the batch's longest text: padding is masked, so only speed changes.
        logits = self.model(trim_to_longest(inputs) if self.trim else inputs, training=False)
        if self.label_names.shape[0] == 0:
            return {"score": tf.cast(logits[:, 0], tf.float32)}
        probabilities = tf.nn.softmax(tf.cast(logits, tf.float32), axis=-1)
        label_ids = tf.argmax(probabilities, axis=-1, output_type=tf.int32)
        return {
            "probabilities": probabilities,
            "label_id": label_ids,
            "label": tf.gather(self.label_names, label_ids),
        }


class EmbedderServer(tf.Module):
    """One embedding per string; each batch is cut to its longest text, so short texts cost little."""

    def __init__(self, model, preprocessor):
        super().__init__()
        self.model = model
        self.preprocessor = preprocessor

    def embed(self, text):
        inputs = trim_to_longest(self.preprocessor(text))
        return {"embedding": tf.cast(self.model(inputs, training=False), tf.float32)}


class TaggerServer(tf.Module):
    """A tag per word, read at the word's first WordPiece (`first_piece_positions`), with its character span.

    Words are the tokenizer's: whitespace- and punctuation-separated, as the
    taggers were trained (one CoNLL token each). Pieces past
    `seq_length - 2` are cut off, and their words with them.
    """

    def __init__(self, model, tokenizer, seq_length, label_names):
        super().__init__()
        self.model = model
        self.tokenizer = tokenizer
        self.seq_length = seq_length
        self.label_names = tf.constant(list(label_names), tf.string)

    def tag(self, text):
        text = _valid_utf8(text)
        ids, starts, ends = self.tokenizer.tokenize_with_offsets(text)
        ids, starts, ends = (x[:, : self.seq_length - 2] for x in (ids, starts, ends))
        logits = self.model(pack_segments([ids], self.seq_length, self.tokenizer.token_to_id("[CLS]"),
                                          self.tokenizer.token_to_id("[SEP]")), training=False)
        probabilities = tf.nn.softmax(tf.cast(logits, tf.float32), axis=-1)
        word_start = self.tokenizer.is_word_start(ids)
        word_probabilities = tf.gather(probabilities, first_piece_positions(word_start), batch_dims=1)
        # A word spans from its first piece's start to its last piece's end.
        word_of_piece = tf.cumsum(tf.cast(word_start.flat_values, tf.int32)) - 1
        word_ends = tf.RaggedTensor.from_row_lengths(
            tf.math.segment_max(ends.flat_values, word_of_piece),
            tf.reduce_sum(tf.cast(word_start, tf.int64), axis=1),
        )
        word_starts = tf.ragged.boolean_mask(starts, word_start)
        tag_ids = tf.ragged.map_flat_values(tf.argmax, word_probabilities, axis=-1, output_type=tf.int32)
        words = tf.strings.substr(
            tf.repeat(text, word_starts.row_lengths()), word_starts.flat_values,
            word_ends.flat_values - word_starts.flat_values, unit="UTF8_CHAR",
        )
        return {
            "num_words": tf.cast(word_starts.row_lengths(), tf.int32),
            "word": word_starts.with_flat_values(words).to_tensor(""),
            "word_start": word_starts.to_tensor(-1),
            "word_end": word_ends.to_tensor(-1),
            "tag_id": tag_ids.to_tensor(-1),
            "tag": tf.ragged.map_flat_values(tf.gather, self.label_names, tag_ids).to_tensor(""),
            "tag_probability": tf.ragged.map_flat_values(tf.reduce_max, word_probabilities, axis=-1).to_tensor(0.0),
        }


class SpanServer(tf.Module):
    """The best answer span in a context for a question (SQuAD), over sliding windows.

    As `squad_features` and `squad_answers` do it: the question keeps at
    most `max_query_length` pieces; the context is cut into windows of what
    then fits in `seq_length` (`[CLS] question [SEP] window [SEP]`) by
    `pack_question_windows`, the function `squad_features` packs with.
    Among spans of context pieces `i <= j < i + max_answer_length` whose
    start piece has its most context in that window (the original's rule),
    the one with the largest start logit of `i` plus end logit of `j` wins,
    over all windows (every start and end is searched, not an n-best
    list). With `null_score_threshold` (SQuAD v2.0), the answer is empty
    when the smallest `[CLS]` score over the windows exceeds that best score
    minus the threshold.
    """

    def __init__(self, model, tokenizer, seq_length, max_query_length=64, max_answer_length=30,
                 null_score_threshold=None, doc_stride=128):
        super().__init__()
        self.model = model
        self.tokenizer = tokenizer
        self.seq_length = seq_length
        self.max_query_length = max_query_length
        self.max_answer_length = max_answer_length
        self.null_score_threshold = null_score_threshold
        self.doc_stride = doc_stride

    def answer(self, question, context):
        context = _valid_utf8(context)
        question_ids = self.tokenizer(question)[:, : self.max_query_length]
        context_ids, starts, ends = self.tokenizer.tokenize_with_offsets(context)
        cls_id, sep_id = self.tokenizer.token_to_id("[CLS]"), self.tokenizer.token_to_id("[SEP]")
        inputs, windows = pack_question_windows(question_ids, context_ids, self.seq_length, self.doc_stride, cls_id,
                                                sep_id)
        question_of = windows["question_index"]
        logits = self.model(inputs, training=False)
        start_logits = tf.cast(logits["start_logits"], tf.float32)
        end_logits = tf.cast(logits["end_logits"], tf.float32)

        in_context = windows["context_index"] >= 0
        positions = tf.range(self.seq_length, dtype=tf.int64)[tf.newaxis]
        i, j = positions[:, :, tf.newaxis], positions[:, tf.newaxis, :]
        allowed = windows["is_max_context"][:, :, tf.newaxis] & in_context[:, tf.newaxis, :] & (j >= i) & (
            j - i < self.max_answer_length
        )
        scores = tf.where(allowed, start_logits[:, :, tf.newaxis] + end_logits[:, tf.newaxis, :], -float("inf"))
        best = tf.argmax(tf.reshape(scores, [tf.shape(scores)[0], -1]), axis=-1)
        best_start, best_end = best // self.seq_length, best % self.seq_length
        # A window without any allowed span scores the lowest float (segment
        # max starts there too, so -inf would not survive it).
        window_score = tf.maximum(tf.reduce_max(scores, axis=[1, 2]), tf.float32.min)

        # Per question, the first window holding the best score.
        num_questions = question_ids.nrows()
        score = tf.math.unsorted_segment_max(window_score, question_of, num_questions)
        window_number = tf.range(tf.shape(question_of, tf.int64)[0])
        is_best = window_score == tf.gather(score, question_of)
        chosen = tf.math.unsorted_segment_min(tf.where(is_best, window_number, tf.int64.max), question_of,
                                              num_questions)
        found = score > tf.float32.min
        if self.null_score_threshold is not None:
            null_score = tf.math.unsorted_segment_min(start_logits[:, 0] + end_logits[:, 0], question_of,
                                                      num_questions)
            found &= null_score - score <= self.null_score_threshold

        char_starts, char_ends = (tf.gather(context_values(x, question_of, windows["context_index"]), chosen)
                                  for x in (starts, ends))
        char_start = tf.gather(char_starts, tf.gather(best_start, chosen), batch_dims=1)
        char_end = tf.gather(char_ends, tf.gather(best_end, chosen), batch_dims=1)
        char_start, char_end = tf.where(found, char_start, -1), tf.where(found, char_end, -1)
        text = tf.strings.substr(context, tf.maximum(char_start, 0), tf.maximum(char_end - char_start, 0),
                                 unit="UTF8_CHAR")
        return {"answer": text, "answer_start": char_start, "answer_end": char_end, "score": score}
