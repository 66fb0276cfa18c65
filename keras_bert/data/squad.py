"""SQuAD: reading the JSON, windowing contexts, and turning logits back into answers."""

import dataclasses
import json
import os

import numpy as np
import tensorflow as tf
from absl import logging

from keras_bert.data.classification_dataset import BATCH_LENGTH_MULTIPLE, trim_to_longest
from keras_bert.data.text_files import open_utf8
from keras_bert.features import INPUT_NAMES
from keras_bert.text.windowing import context_values, pack_question_windows


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
        with open_utf8(path) as f:
            articles = json.load(f)["data"]
    except (json.JSONDecodeError, KeyError, TypeError) as e:
        raise ValueError(f"{path} is not SQuAD JSON (a top-level 'data' list): {e}") from None
    examples, mismatched = [], []
    where = "data"
    try:
        for article_index, article in enumerate(articles):
            for paragraph_index, paragraph in enumerate(article["paragraphs"]):
                where = f"data[{article_index}].paragraphs[{paragraph_index}]"
                context = _string(paragraph["context"])
                for qa in paragraph["qas"]:
                    where = f"data[{article_index}].paragraphs[{paragraph_index}], question {qa.get('id')!r}"
                    answers = []
                    for answer in qa.get("answers") or []:
                        start, text = _integer(answer["answer_start"]), _string(answer["text"])
                        if context[start : start + len(text)] == text:
                            answers.append((text, start))
                        else:
                            mismatched.append(qa["id"])
                    if qa.get("is_impossible"):
                        answers = []
                    examples.append(SquadExample(_string(qa["id"]), _string(qa["question"]), context, answers))
    except (KeyError, TypeError, AttributeError) as e:
        problem = f"no {e}" if isinstance(e, KeyError) else str(e)
        raise ValueError(
            f"{path} is not SQuAD JSON at {where} ({problem}); the layout is data[].paragraphs[].context/qas[] "
            "with id, question and answers[].text/answer_start."
        ) from None
    if mismatched:
        logging.warning(
            "%s: skipped %d answer(s) whose answer_start does not match the context, "
            "e.g. in question %s.", path, len(mismatched), mismatched[0],
        )
    if not examples:
        raise ValueError(f"{path}: no questions.")
    return examples


def _string(value):
    if not isinstance(value, str):
        raise TypeError(f"expected a string, found {value!r}")
    return value


def _integer(value):
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"answer_start should be an integer, found {value!r}")
    return value


def squad_features(
    examples, tokenizer, seq_length=384, doc_stride=128, max_query_length=64, training=False,
    keep_unanswerable=False,
):
    """Packs each question with overlapping windows of its context.

    `[CLS] question [SEP] context window [SEP]`, windows cut as the
    original's run_squad.py cuts them (`keras_bert.text.windowing`, which
    the exported span server shares): each starts `min(window length,
    doc_stride)` pieces after the previous one and the last reaches the
    context's end, so every context piece is in some window. For training,
    the answer's first and last pieces are the labels, or `[CLS]` (0) when
    the window does not contain the answer or the question has none.
    Training questions without answers are dropped unless
    `keep_unanswerable` (SQuAD v2.0).

    Args:
        examples: list of `SquadExample`.
        tokenizer: a `BertTokenizer`.
        seq_length: int. Window length, question and special tokens included.
        doc_stride: int. Context pieces between window starts, at most.
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
        gives the piece its most context, the original's rule).

    Example:
    >>> import tempfile
    >>> from keras_bert.text.bert_tokenizer import BertTokenizer
    >>> vocab = os.path.join(tempfile.mkdtemp(), "vocab.txt")
    >>> _ = open(vocab, "w").write("\\n".join(
    ...     ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "who", "ann", "wrote", "it", "."]))
    >>> example = SquadExample("q1", "Who wrote", "Ann wrote it.", [("Ann", 0)])
    >>> features = squad_features([example], BertTokenizer(vocab), seq_length=8, doc_stride=2, training=True)
    >>> features["input_word_ids"].tolist(), features["start_positions"].tolist()  # two windows
    ([[2, 5, 7, 3, 6, 7, 8, 3], [2, 5, 7, 3, 8, 9, 3, 0]], [4, 0])
    """
    if training and not keep_unanswerable:
        examples = [e for e in examples if e.answers]
    questions = tokenizer(tf.constant([e.question for e in examples]))[:, :max_query_length]
    longest = int(np.max(questions.row_lengths(), initial=0))
    if seq_length - 3 - longest < 1:
        raise ValueError(
            f"seq_length={seq_length} leaves no room for context after a {longest}-piece question; "
            f"raise seq_length or lower max_query_length={max_query_length}."
        )
    # Each distinct context is tokenized once, then gathered per question.
    contexts = sorted({e.context for e in examples})
    context_row = {c: i for i, c in enumerate(contexts)}
    rows = tf.constant([context_row[e.context] for e in examples], tf.int64)
    ids, starts, ends = (tf.gather(x, rows) for x in tokenizer.tokenize_with_offsets(tf.constant(contexts)))
    inputs, windows = pack_question_windows(questions, ids, seq_length, doc_stride, tokenizer.token_to_id("[CLS]"),
                                            tokenizer.token_to_id("[SEP]"))
    example_index = windows["question_index"].numpy().astype(np.int32)
    context_index = windows["context_index"].numpy()
    out = {name: value.numpy() for name, value in inputs.items()}
    out.update(
        example_index=example_index,
        char_start=context_values(starts, windows["question_index"], windows["context_index"]).numpy().astype(np.int32),
        char_end=context_values(ends, windows["question_index"], windows["context_index"]).numpy().astype(np.int32),
        is_max_context=windows["is_max_context"].numpy(),
    )
    # Labels: the answer's first and last piece where the window holds both, else [CLS] (0).
    answer = np.full((len(examples), 2), -1)
    if training:
        for index, (example, piece_starts, piece_ends) in enumerate(zip(examples, starts.to_list(), ends.to_list())):
            if example.answers:
                answer[index] = _answer_pieces(example, piece_starts, piece_ends) or (-1, -1)
    first, last = (context_index == answer[example_index, k, np.newaxis] for k in (0, 1))
    holds = first.any(1) & last.any(1) & (answer[example_index, 0] >= 0)
    out["start_positions"] = np.where(holds, first.argmax(1), 0).astype(np.int32)
    out["end_positions"] = np.where(holds, last.argmax(1), 0).astype(np.int32)
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
        each `(batch, length)` with `length` the batch's longest row rounded
        up to a multiple of `BATCH_LENGTH_MULTIPLE` (`trim_to_longest`), and
        `{"start_logits": (batch,), "end_logits": (batch,)}` int32 answer
        positions (0 for prediction windows).

    Example:
    >>> features = {"input_word_ids": np.array([[101, 7, 102] + [0] * 29] * 3, "int32"),
    ...             "input_mask": np.array([[1, 1, 1] + [0] * 29] * 3, "int32"),
    ...             "input_type_ids": np.zeros((3, 32), "int32"),
    ...             "start_positions": np.array([1, 1, 0], "int32"),
    ...             "end_positions": np.array([1, 2, 0], "int32")}
    >>> [tuple(x["input_word_ids"].shape) for x, _ in squad_dataset(features, 2)]
    [(2, 16), (1, 16)]
    """
    inputs = {k: features[k] for k in INPUT_NAMES}
    labels = {"start_logits": features["start_positions"], "end_logits": features["end_positions"]}
    dataset = tf.data.Dataset.from_tensor_slices((inputs, labels))
    if shuffle:
        dataset = dataset.shuffle(len(features["start_positions"]), seed=seed, reshuffle_each_iteration=True)
    return (dataset.batch(batch_size)
            .map(lambda x, y: (trim_to_longest(x, BATCH_LENGTH_MULTIPLE), y), num_parallel_calls=tf.data.AUTOTUNE)
            .prefetch(tf.data.AUTOTUNE))


def _answer_pieces(example, piece_starts, piece_ends):
    """First and last context piece of the first answer, or None."""
    text, start = example.answers[0]
    end = start + len(text)
    inside = [i for i, (s, e) in enumerate(zip(piece_starts, piece_ends)) if e > start and s < end]
    return (inside[0], inside[-1]) if inside else None


def squad_answers(examples, features, start_logits, end_logits, n_best_size=20, max_answer_length=30,
                  null_score_threshold=None):
    """Best answer text per question from per-window logits.

    `squad_best_answers`, then with `null_score_threshold` (SQuAD v2.0)
    `apply_null_score_threshold`: the empty answer wins when the null odds
    exceed the threshold. For the odds themselves (null_odds.json), call
    the two.

    Args:
        examples, features, start_logits, end_logits, n_best_size,
            max_answer_length: as for `squad_best_answers`.
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
    answers, null_odds = squad_best_answers(examples, features, start_logits, end_logits, n_best_size,
                                            max_answer_length)
    if null_score_threshold is None:
        return answers
    return apply_null_score_threshold(answers, null_odds, null_score_threshold)


def squad_best_answers(examples, features, start_logits, end_logits, n_best_size=20, max_answer_length=30):
    """Each question's best non-empty answer and its null odds, from per-window logits.

    For each question, over all its windows, the `n_best_size` highest start
    and end logits are paired; a pair counts if both lie in the context, in
    order, at most `max_answer_length` pieces apart, and the start piece has
    its maximal context in that window. The score is start + end logit; the
    text is the original context between the pieces' character offsets.
    The null odds are the null score (the smallest `[CLS]` start + end logit
    over the question's windows) minus the best span's score, what
    google-research/bert's run_squad.py writes to null_odds.json; a question
    without any valid span gets text `""` and, as there, odds against a
    stand-in span scoring 0.

    Args:
        examples: the list of `SquadExample` given to `squad_features`.
        features: the dict `squad_features` returned (`example_index`,
            `char_start`, `char_end`, `is_max_context` are used).
        start_logits, end_logits: per window, a float array `(length,)`
            over its real pieces, as `predict_logits` returns them (rows of
            a `(windows, seq_length)` array work too).
        n_best_size: int.
        max_answer_length: int, in pieces.

    Returns:
        `(answers, null_odds)`: `{question_id: answer text}` and
        `{question_id: float}`, in the order of `examples`.

    Example:
    >>> example = SquadExample("q1", "Who wrote it?", "Ann wrote it.", [])
    >>> features = {"example_index": np.array([0]),  # one window: [CLS] "Ann" "wrote" [SEP]
    ...             "char_start": np.array([[-1, 0, 4, -1]]), "char_end": np.array([[-1, 3, 9, -1]]),
    ...             "is_max_context": np.array([[False, True, True, False]])}
    >>> start_logits, end_logits = np.array([[6.0, 5.0, 1.0, 0.0]]), np.array([[6.0, 4.0, 1.0, 0.0]])
    >>> squad_best_answers([example], features, start_logits, end_logits)  # null 6 + 6, "Ann" 5 + 4
    ({'q1': 'Ann'}, {'q1': 3.0})
    """
    best = {}  # example index -> (score, text)
    null = {}
    for row, index in enumerate(features["example_index"]):
        starts, ends = start_logits[row], end_logits[row]
        null[index] = min(null.get(index, np.inf), float(starts[0] + ends[0]))
        top_starts = np.argsort(starts)[::-1][:n_best_size]
        top_ends = np.argsort(ends)[::-1][:n_best_size]
        char_start, char_end = features["char_start"][row], features["char_end"][row]
        for s in top_starts:
            if char_start[s] < 0 or not features["is_max_context"][row, s]:
                continue
            for e in top_ends:
                if char_end[e] < 0 or e < s or e - s + 1 > max_answer_length:
                    continue
                score = float(starts[s] + ends[e])
                if index not in best or score > best[index][0]:
                    best[index] = (score, examples[index].context[char_start[s] : char_end[e]])
    answers, null_odds = {}, {}
    for index, example in enumerate(examples):
        score, text = best.get(index, (0.0, ""))
        answers[example.question_id] = text
        null_odds[example.question_id] = null[index] - score
    return answers, null_odds


def apply_null_score_threshold(answers, null_odds, threshold):
    """`answers` with `""` for every question whose null odds exceed `threshold` (SQuAD v2.0).

    The rule of BERT's run_squad.py (`--null_score_diff_threshold`) and of the
    official evaluation's `na_prob_thresh`: odds above the threshold mean no
    answer.

    Args:
        answers: `{question_id: text}`, the best non-empty answers.
        null_odds: `{question_id: float}`, from `squad_best_answers`.
        threshold: float.

    Returns:
        `{question_id: text}`.

    Example:
    >>> apply_null_score_threshold({"q1": "Ann", "q2": "1066"}, {"q1": -2.0, "q2": 0.5}, 0.0)
    {'q1': 'Ann', 'q2': ''}
    """
    return {question_id: "" if null_odds[question_id] > threshold else text for question_id, text in answers.items()}
