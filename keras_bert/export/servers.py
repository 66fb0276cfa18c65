"""The `tf.Module`s behind exported SavedModels: raw strings in, task answers out.

Each holds a fine-tuned model and its tokenizer, and does all text handling
with TensorFlow and tensorflow-text ops, so the SavedModel serves without
Python preprocessing. Text is first transcoded to valid UTF-8 (invalid
bytes become U+FFFD, which the tokenizer drops), so character offsets and
answer substrings are well defined for any input bytes.
"""

import tensorflow as tf
import tensorflow_text as tf_text

from keras_bert.text.bert_preprocessor import pack_segments


def _valid_utf8(text):
    return tf.strings.unicode_transcode(text, "UTF-8", "UTF-8", errors="replace", replacement_char=0xFFFD)


def _pack(segments, tokenizer, seq_length):
    return pack_segments(segments, seq_length, tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]"))


class ClassifierServer(tf.Module):
    """Label probabilities for one string, or a pair, per row; a score for regression (no labels)."""

    def __init__(self, model, preprocessor, label_names):
        super().__init__()
        self.model = model
        self.preprocessor = preprocessor
        self.label_names = tf.constant(list(label_names), tf.string)

    def classify(self, segments):
        logits = self.model(self.preprocessor(segments), training=False)
        if self.label_names.shape[0] == 0:
            return {"score": tf.cast(logits[:, 0], tf.float32)}
        probabilities = tf.nn.softmax(tf.cast(logits, tf.float32), axis=-1)
        label_ids = tf.argmax(probabilities, axis=-1, output_type=tf.int32)
        return {
            "probabilities": probabilities,
            "label_id": label_ids,
            "label": tf.gather(self.label_names, label_ids),
        }


class TaggerServer(tf.Module):
    """A tag per word, read at the word's first WordPiece, with its character span.

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
        logits = self.model(_pack([ids], self.tokenizer, self.seq_length), training=False)
        probabilities = tf.nn.softmax(tf.cast(logits, tf.float32), axis=-1)[:, 1:]  # after [CLS]
        piece_probabilities = tf.RaggedTensor.from_tensor(probabilities, lengths=ids.row_lengths())
        word_start = self.tokenizer.is_word_start(ids)
        word_probabilities = tf.ragged.boolean_mask(piece_probabilities, word_start)
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
    """The best answer span in a context for a question (SQuAD), from one window.

    `[CLS] question [SEP] context [SEP]`: the question keeps at most
    `max_query_length` pieces and the context what then fits in
    `seq_length`; the rest of a longer context is not searched. Among spans
    of context pieces `i <= j < i + max_answer_length`, the one with the
    largest start logit of `i` plus end logit of `j` wins. With
    `null_score_threshold` (SQuAD v2.0), the answer is empty when the
    `[CLS]` score exceeds that best score minus the threshold.
    """

    def __init__(self, model, tokenizer, seq_length, max_query_length=64, max_answer_length=30,
                 null_score_threshold=None):
        super().__init__()
        self.model = model
        self.tokenizer = tokenizer
        self.seq_length = seq_length
        self.max_query_length = max_query_length
        self.max_answer_length = max_answer_length
        self.null_score_threshold = null_score_threshold

    def answer(self, question, context):
        context = _valid_utf8(context)
        question_ids = self.tokenizer(question)[:, : self.max_query_length]
        context_ids, starts, ends = self.tokenizer.tokenize_with_offsets(context)
        # The question is kept whole; the context gives way ([CLS] and two [SEP]s take 3).
        keep = tf_text.WaterfallTrimmer(self.seq_length - 3).generate_mask([question_ids, context_ids])[1]
        context_ids, starts, ends = (tf.ragged.boolean_mask(x, keep) for x in (context_ids, starts, ends))
        logits = self.model(_pack([question_ids, context_ids], self.tokenizer, self.seq_length), training=False)
        start_logits = tf.cast(logits["start_logits"], tf.float32)
        end_logits = tf.cast(logits["end_logits"], tf.float32)

        first = question_ids.row_lengths() + 2  # position of the first context piece
        last = first + context_ids.row_lengths() - 1
        positions = tf.range(self.seq_length, dtype=tf.int64)[tf.newaxis]
        in_context = (positions >= first[:, tf.newaxis]) & (positions <= last[:, tf.newaxis])
        i, j = positions[:, :, tf.newaxis], positions[:, tf.newaxis, :]
        allowed = in_context[:, :, tf.newaxis] & in_context[:, tf.newaxis, :] & (j >= i) & (
            j - i < self.max_answer_length
        )
        scores = start_logits[:, :, tf.newaxis] + end_logits[:, tf.newaxis, :]
        scores = tf.where(allowed, scores, -float("inf"))
        best = tf.argmax(tf.reshape(scores, [tf.shape(scores)[0], -1]), axis=-1)
        best_start, best_end = best // self.seq_length, best % self.seq_length
        score = tf.reduce_max(scores, axis=[1, 2])
        found = tf.math.is_finite(score)
        if self.null_score_threshold is not None:
            null_score = start_logits[:, 0] + end_logits[:, 0]
            found &= null_score - score <= self.null_score_threshold

        dense_starts, dense_ends = (x.to_tensor(0, shape=[None, self.seq_length]) for x in (starts, ends))
        char_start = tf.gather(dense_starts, tf.maximum(best_start - first, 0), batch_dims=1)
        char_end = tf.gather(dense_ends, tf.maximum(best_end - first, 0), batch_dims=1)
        char_start, char_end = tf.where(found, char_start, -1), tf.where(found, char_end, -1)
        text = tf.strings.substr(context, tf.maximum(char_start, 0), tf.maximum(char_end - char_start, 0),
                                 unit="UTF8_CHAR")
        return {"answer": text, "answer_start": char_start, "answer_end": char_end, "score": score}
