"""SQuAD's official scores: exact match and token F1 over normalized answers.

The rules of the official v1.1 / v2.0 evaluation scripts: lower-case, drop
punctuation and the articles a/an/the, collapse whitespace; a prediction
scores its best match over all reference answers; an unanswerable question
(no references) scores 1 only for the empty prediction.
"""

import collections
import re
import string

_ARTICLES = re.compile(r"\b(a|an|the)\b", re.UNICODE)
_PUNCTUATION = set(string.punctuation)


def normalize_answer(text):
    """The official normalization.

    Example:
    >>> normalize_answer("The  Civil-War!")
    'civilwar'
    """
    text = "".join(c for c in text.lower() if c not in _PUNCTUATION)
    return " ".join(_ARTICLES.sub(" ", text).split())


def exact_match(prediction, reference):
    return float(normalize_answer(prediction) == normalize_answer(reference))


def token_f1(prediction, reference):
    """F1 of the normalized tokens; for empty answers (v2.0), 1 iff both are empty.

    Example:
    >>> round(token_f1("the civil war", "civil war in 1861"), 4)
    0.6667
    """
    predicted, expected = normalize_answer(prediction).split(), normalize_answer(reference).split()
    if not predicted or not expected:
        return float(predicted == expected)
    common = sum((collections.Counter(predicted) & collections.Counter(expected)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(predicted), common / len(expected)
    return 2 * precision * recall / (precision + recall)


def squad_scores(references, predictions):
    """`{"exact_match", "f1"}` in percent, averaged over questions.

    Args:
        references: `{question_id: [reference answer texts]}` (empty list for
            unanswerable questions).
        predictions: `{question_id: predicted text}`; a missing prediction
            scores 0, as in the official script.

    Example:
    >>> scores = squad_scores({"q1": ["Paris", "the city of Paris"], "q2": ["1861"]},
    ...                       {"q1": "Paris.", "q2": "in 1861"})
    >>> {name: round(value, 2) for name, value in scores.items()}
    {'exact_match': 50.0, 'f1': 83.33}
    """
    totals = {"exact_match": 0.0, "f1": 0.0}
    for question_id, answers in references.items():
        if question_id not in predictions:
            continue
        prediction = predictions[question_id]
        answers = answers or [""]
        totals["exact_match"] += max(exact_match(prediction, a) for a in answers)
        totals["f1"] += max(token_f1(prediction, a) for a in answers)
    return {name: 100.0 * value / max(len(references), 1) for name, value in totals.items()}
