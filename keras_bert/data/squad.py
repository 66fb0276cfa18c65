"""SQuAD: reading the JSON, windowing contexts, and turning logits back into answers."""

import dataclasses
import json
import os

import numpy as np
import tensorflow as tf
from absl import logging

from keras_bert.data.classification_dataset import trim_to_longest
from keras_bert.features import INPUT_NAMES


@dataclasses.dataclass
class SquadExample:
    """One question. `answers`: `[(text, char_start)]`, empty if unanswerable.

    Example:
    >>> example = SquadExample("q1", "Who wrote it?", "Ann wrote it.", [("Ann", 0)])
    >>> text, start = example.answers[0]
    >>> example.context[start : start + len(text)]
    'Ann'
    """

    question_id: str
    question: str
    context: str
    answers: list


def read_squad(path):
    """Reads an official SQuAD v1.1 / v2.0 JSON file into `SquadExample`s.

    Answers whose `answer_start` does not point at their text in the context
    are skipped with a logged count (the original run_squad.py skips them
    too); a question left without answers is then dropped from training
    data by `squad_features`.

    Raises:
        FileNotFoundError, ValueError: naming the file, for a missing file or
            one that is not SQuAD JSON.

    Example:
    >>> import json, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "dev.json")
    >>> qa = {"id": "q1", "question": "Who wrote it?", "answers": [{"text": "Ann", "answer_start": 0}]}
    >>> _ = open(path, "w").write(json.dumps({"data": [{"paragraphs": [{"context": "Ann wrote it.", "qas": [qa]}]}]}))
    >>> read_squad(path)
    [SquadExample(question_id='q1', question='Who wrote it?', context='Ann wrote it.', answers=[('Ann', 0)])]
    """
    if not os.path.isfile(path):
        raise FileNotFoundError(f"No SQuAD file at {path!r}.")
    try:
        with open(path, encoding="utf-8") as f:
            articles = json.load(f)["data"]
    except (json.JSONDecodeError, KeyError, TypeError) as e:
        raise ValueError(f"{path} is not SQuAD JSON (a top-level 'data' list): {e}") from None
    examples, mismatched = [], []
    for article in articles:
        for paragraph in article["paragraphs"]:
            context = paragraph["context"]
            for qa in paragraph["qas"]:
                answers = []
                for answer in qa.get("answers", []):
                    start, text = answer["answer_start"], answer["text"]
                    if context[start : start + len(text)] == text:
                        answers.append((text, start))
                    else:
                        mismatched.append(qa["id"])
                if qa.get("is_impossible"):
                    answers = []
                examples.append(SquadExample(qa["id"], qa["question"], context, answers))
    if mismatched:
        logging.warning(
            "%s: skipped %d answer(s) whose answer_start does not match the context, "
            "e.g. in question %s.", path, len(mismatched), mismatched[0],
        )
    if not examples:
        raise ValueError(f"{path}: no questions.")
    return examples


def squad_features(
    examples, tokenizer, seq_length=384, doc_stride=128, max_query_length=64, training=False,
    keep_unanswerable=False,
):
    """Packs each question with overlapping windows of its context.

    `[CLS] question [SEP] context window [SEP]`, windows `doc_stride` pieces
    apart (the original's sliding window). For training, the answer's first
    and last pieces are the labels, or `[CLS]` (0) when the window does not
    contain the answer or the question has none. Training questions without
    answers are dropped unless `keep_unanswerable` (SQuAD v2.0).

    Args:
        examples: list of `SquadExample`.
        tokenizer: a `BertTokenizer`.
        seq_length: int. Window length, question and special tokens included.
        doc_stride: int. Context pieces between window starts.
        max_query_length: int. Questions are cut to this many pieces.
        training: bool. Label the answers (and drop unanswerable questions).
        keep_unanswerable: bool. With `training`, keep questions without
            answers, labelled `[CLS]`.

    Returns:
        A dict of numpy arrays: the encoder inputs (int32
        `(windows, seq_length)`), `start_positions`/`end_positions` (int32
        `(windows,)`), and for decoding: `example_index` (int32
        `(windows,)`), `char_start`/`char_end` (int32 `(windows,
        seq_length)`: each piece's span in the context, -1 outside it) and
        `is_max_context` (bool `(windows, seq_length)`: whether this window
        gives the piece its most context).

    Example:
    >>> import tempfile
    >>> from keras_bert.text.bert_tokenizer import BertTokenizer
    >>> vocab = os.path.join(tempfile.mkdtemp(), "vocab.txt")
    >>> _ = open(vocab, "w").write("\\n".join(
    ...     ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "who", "ann", "wrote", "it", "."]))
    >>> example = SquadExample("q1", "Who wrote", "Ann wrote it.", [("Ann", 0)])
    >>> features = squad_features([example], BertTokenizer(vocab), seq_length=8, doc_stride=2, training=True)
    >>> features["input_word_ids"].tolist(), features["start_positions"].tolist()  # two windows
    ([[2, 5, 7, 3, 6, 7, 8, 3], [2, 5, 7, 3, 7, 8, 9, 3]], [4, 0])
    """
    if training and not keep_unanswerable:
        examples = [e for e in examples if e.answers]
    questions = tokenizer(tf.constant([e.question for e in examples])).to_list()
    contexts = sorted({e.context for e in examples})
    context_row = {c: i for i, c in enumerate(contexts)}
    ids, starts, ends = (r.to_list() for r in tokenizer.tokenize_with_offsets(tf.constant(contexts)))
    cls_id, sep_id = tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]")

    rows = []
    for index, example in enumerate(examples):
        question = questions[index][:max_query_length]
        c = context_row[example.context]
        piece_ids, piece_starts, piece_ends = ids[c], starts[c], ends[c]
        window_length = seq_length - len(question) - 3
        if window_length < 1:
            raise ValueError(f"seq_length={seq_length} leaves no room for context after the question.")
        window_starts = list(range(0, max(len(piece_ids) - window_length, 0) + 1, doc_stride))
        if window_starts[-1] + window_length < len(piece_ids):
            window_starts.append(len(piece_ids) - window_length)
        answer_span = _answer_pieces(example, piece_starts, piece_ends) if training else None
        for window_start in window_starts:
            window = range(window_start, min(window_start + window_length, len(piece_ids)))
            offset = len(question) + 2  # context pieces begin after [CLS] question [SEP]
            start_label = end_label = 0
            if answer_span and window.start <= answer_span[0] and answer_span[1] < window.stop:
                start_label, end_label = answer_span[0] - window.start + offset, answer_span[1] - window.start + offset
            rows.append((index, question, window, window_starts, window_length, start_label, end_label, c))

    shape = (len(rows), seq_length)
    out = {
        "input_word_ids": np.zeros(shape, np.int32),
        "input_mask": np.zeros(shape, np.int32),
        "input_type_ids": np.zeros(shape, np.int32),
        "start_positions": np.zeros(len(rows), np.int32),
        "end_positions": np.zeros(len(rows), np.int32),
        "example_index": np.zeros(len(rows), np.int32),
        "char_start": np.full(shape, -1, np.int32),
        "char_end": np.full(shape, -1, np.int32),
        "is_max_context": np.zeros(shape, bool),
    }
    for r, (index, question, window, window_starts, window_length, start_label, end_label, c) in enumerate(rows):
        offset = len(question) + 2
        tokens = [cls_id] + question + [sep_id] + [ids[c][i] for i in window] + [sep_id]
        out["input_word_ids"][r, : len(tokens)] = tokens
        out["input_mask"][r, : len(tokens)] = 1
        out["input_type_ids"][r, offset : len(tokens)] = 1
        out["start_positions"][r], out["end_positions"][r] = start_label, end_label
        out["example_index"][r] = index
        for k, i in enumerate(window):
            out["char_start"][r, offset + k] = starts[c][i]
            out["char_end"][r, offset + k] = ends[c][i]
            out["is_max_context"][r, offset + k] = _is_max_context(window_starts, window_length, window.start, i)
    return out


def squad_dataset(features, batch_size, shuffle=False, seed=None):
    """`(inputs, labels)` batches for `BertSpanLabeler`, from `squad_features`.

    Args:
        features: the dict `squad_features` returns.
        batch_size: int.
        shuffle: bool. Reshuffle the windows every epoch. Batches then never
            span two epochs and an epoch's last batch may be short, as in a
            PyTorch `DataLoader`; call `.repeat()` on the result to train.
        seed: optional int, for a reproducible order.

    Returns:
        A `tf.data.Dataset` of `(inputs, labels)`: the encoder's input dict,
        each `(batch, length)` with `length` the batch's longest row
        (`trim_to_longest`), and `{"start_logits": (batch,), "end_logits":
        (batch,)}` int32 answer positions (0 for prediction windows).

    Example:
    >>> features = {"input_word_ids": np.array([[101, 7, 102, 0]] * 3, "int32"),
    ...             "input_mask": np.array([[1, 1, 1, 0]] * 3, "int32"),
    ...             "input_type_ids": np.zeros((3, 4), "int32"),
    ...             "start_positions": np.array([1, 1, 0], "int32"),
    ...             "end_positions": np.array([1, 2, 0], "int32")}
    >>> [tuple(x["input_word_ids"].shape) for x, _ in squad_dataset(features, 2)]
    [(2, 3), (1, 3)]
    """
    inputs = {k: features[k] for k in INPUT_NAMES}
    labels = {"start_logits": features["start_positions"], "end_logits": features["end_positions"]}
    dataset = tf.data.Dataset.from_tensor_slices((inputs, labels))
    if shuffle:
        dataset = dataset.shuffle(len(features["start_positions"]), seed=seed, reshuffle_each_iteration=True)
    return (dataset.batch(batch_size)
            .map(lambda x, y: (trim_to_longest(x), y), num_parallel_calls=tf.data.AUTOTUNE)
            .prefetch(tf.data.AUTOTUNE))


def _answer_pieces(example, piece_starts, piece_ends):
    """First and last context piece of the first answer, or None."""
    text, start = example.answers[0]
    end = start + len(text)
    inside = [i for i, (s, e) in enumerate(zip(piece_starts, piece_ends)) if e > start and s < end]
    return (inside[0], inside[-1]) if inside else None


def _is_max_context(window_starts, window_length, this_start, piece):
    """The original's rule: a piece belongs to the window where min(left, right) context is largest."""

    def score(start):
        left, right = piece - start, start + window_length - 1 - piece
        return min(left, right) + 0.01 * window_length if 0 <= left and 0 <= right else -1

    best = max(window_starts, key=score)
    return best == this_start


def squad_answers(examples, features, start_logits, end_logits, n_best_size=20, max_answer_length=30,
                  null_score_threshold=None):
    """Best answer text per question from per-window logits.

    For each question, over all its windows, the `n_best_size` highest start
    and end logits are paired; a pair counts if both lie in the context, in
    order, at most `max_answer_length` pieces apart, and the start piece has
    its maximal context in that window. The score is start + end logit; the
    text is the original context between the pieces' character offsets.
    With `null_score_threshold` (SQuAD v2.0), the empty answer wins when the
    `[CLS]` score exceeds the best span's score minus the threshold.

    Args:
        examples: the list of `SquadExample` given to `squad_features`.
        features: the dict `squad_features` returned (`example_index`,
            `char_start`, `char_end`, `is_max_context` are used).
        start_logits, end_logits: per window, a float array `(length,)`
            over its real pieces, as `predict_logits` returns them (rows of
            a `(windows, seq_length)` array work too).
        n_best_size: int.
        max_answer_length: int, in pieces.
        null_score_threshold: optional float (SQuAD v2.0).

    Returns:
        `{question_id: answer text}`.

    Example:
    >>> example = SquadExample("q1", "Who wrote it?", "Ann wrote it.", [])
    >>> features = {"example_index": np.array([0]),  # one window: [CLS] "Ann" "wrote" [SEP]
    ...             "char_start": np.array([[-1, 0, 4, -1]]), "char_end": np.array([[-1, 3, 9, -1]]),
    ...             "is_max_context": np.array([[False, True, True, False]])}
    >>> start_logits, end_logits = np.array([[6.0, 5.0, 1.0, 0.0]]), np.array([[6.0, 4.0, 1.0, 0.0]])
    >>> squad_answers([example], features, start_logits, end_logits)
    {'q1': 'Ann'}
    >>> squad_answers([example], features, start_logits, end_logits, null_score_threshold=0.0)  # [CLS] wins
    {'q1': ''}
    """
    best = {}  # example index -> (score, text)
    null = {}
    for row, index in enumerate(features["example_index"]):
        starts, ends = start_logits[row], end_logits[row]
        null_score = starts[0] + ends[0]
        null[index] = min(null.get(index, np.inf), null_score)
        top_starts = np.argsort(starts)[::-1][:n_best_size]
        top_ends = np.argsort(ends)[::-1][:n_best_size]
        char_start, char_end = features["char_start"][row], features["char_end"][row]
        for s in top_starts:
            if char_start[s] < 0 or not features["is_max_context"][row, s]:
                continue
            for e in top_ends:
                if char_end[e] < 0 or e < s or e - s + 1 > max_answer_length:
                    continue
                score = starts[s] + ends[e]
                if index not in best or score > best[index][0]:
                    best[index] = (score, examples[index].context[char_start[s] : char_end[e]])
    answers = {}
    for index, example in enumerate(examples):
        score, text = best.get(index, (-np.inf, ""))
        if null_score_threshold is not None and null.get(index, -np.inf) - score > null_score_threshold:
            text = ""
        answers[example.question_id] = text
    return answers
