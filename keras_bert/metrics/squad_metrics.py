"""SQuAD's official scores: exact match and token F1 over normalized answers.

The rules of the official v1.1 / v2.0 evaluation scripts: lower-case, drop
punctuation and the articles a/an/the, collapse whitespace; a prediction
scores its best match over all reference answers; an unanswerable question
(no references) scores 1 only for the empty prediction. `squad_v2_scores`
adds v2.0's null-odds threshold and its search for the best one.
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


def _best_match(prediction, answers):
    """`(exact, f1)` of `prediction` against its best reference in `answers` (a non-empty list)."""
    return (max(exact_match(prediction, a) for a in answers),
            max(token_f1(prediction, a) for a in answers))


def squad_scores(references, predictions):
    """`{"exact_match", "f1"}` in percent, averaged over questions (SQuAD v1.1).

    Args:
        references: `{question_id: [reference answer texts]}` (empty list for
            unanswerable questions).
        predictions: `{question_id: predicted text}`; a missing prediction
            scores 0, as in the official v1.1 script.

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
        exact, f1 = _best_match(predictions[question_id], answers or [""])
        totals["exact_match"] += exact
        totals["f1"] += f1
    return {name: 100.0 * value / max(len(references), 1) for name, value in totals.items()}


# SQuAD v2.0: the official evaluate-v2.0.py, function for function, on dicts instead of its JSON files.


def squad_v2_scores(references, predictions, null_odds, na_prob_thresh=1.0):
    """The official SQuAD v2.0 evaluation, as evaluate-v2.0.py prints it with `--na-prob-file`.

    Per question, exact and F1 against the best reference (an unanswerable
    question's only reference is `""`, and so is that of one whose references
    all normalize to nothing); a question whose null odds exceed
    `na_prob_thresh` counts as answered empty instead. `best_exact` and
    `best_f1` are the scores at the best null-odds threshold for the
    predictions as given (`best_*_thresh`): answering exactly the questions
    with odds at most that threshold. Thresholds are tried in increasing
    order of the odds (ties in the order of `null_odds`), starting from
    "all empty" at threshold 0.0, and only a strictly better score moves the
    threshold, as in the official script.

    Args:
        references: `{question_id: [reference answer texts]}`; an empty list
            marks an unanswerable question. Every question is scored.
        predictions: `{question_id: predicted text}`, `""` for no answer;
            extra ids are ignored.
        null_odds: `{question_id: float}`, the null score minus the best
            span's score (the `null_odds.json` of BERT's run_squad.py); higher
            means more likely unanswerable. Extra ids are ignored.
        na_prob_thresh: float. Odds above it count as predicting no answer.

    Returns:
        A dict, in percent as the official script prints it: `exact`, `f1`,
        `total`; `HasAns_exact`, `HasAns_f1`, `HasAns_total` when some
        question has an answer and `NoAns_...` likewise when some has none;
        `best_exact`, `best_exact_thresh`, `best_f1`, `best_f1_thresh`.
        Totals are ints, thresholds are null-odds values.

    Raises:
        ValueError: no questions, or a question without a prediction or null
            odds (the official script fails on those too).

    Example:
    >>> scores = squad_v2_scores({"q1": ["Paris"], "q2": []}, {"q1": "Paris", "q2": "Lyon"},
    ...                          {"q1": -3.0, "q2": 2.0})
    >>> scores["exact"], scores["HasAns_exact"], scores["NoAns_exact"]  # q2's odds 2.0 > 1.0: empty
    (100.0, 100.0, 100.0)
    >>> scores["best_f1"], scores["best_f1_thresh"]
    (100.0, -3.0)
    """
    if not references:
        raise ValueError("squad_v2_scores: no questions in references.")
    for name, given in (("prediction", predictions), ("null odds", null_odds)):
        missing = [question_id for question_id in references if question_id not in given]
        if missing:
            raise ValueError(f"squad_v2_scores: no {name} for {len(missing)} of {len(references)} questions, "
                             f"e.g. {missing[0]!r}.")
    has_answer = {question_id: bool(answers) for question_id, answers in references.items()}
    exact_raw, f1_raw = _get_raw_scores(references, predictions)
    exact_thresh = _apply_no_ans_threshold(exact_raw, null_odds, has_answer, na_prob_thresh)
    f1_thresh = _apply_no_ans_threshold(f1_raw, null_odds, has_answer, na_prob_thresh)
    out = _make_eval_dict(exact_thresh, f1_thresh)
    for prefix, answerable in (("HasAns", True), ("NoAns", False)):
        question_ids = [q for q, has in has_answer.items() if has == answerable]
        if question_ids:
            out.update({f"{prefix}_{k}": v for k, v in _make_eval_dict(exact_thresh, f1_thresh, question_ids).items()})
    out["best_exact"], out["best_exact_thresh"] = _find_best_thresh(predictions, exact_raw, null_odds, has_answer)
    out["best_f1"], out["best_f1_thresh"] = _find_best_thresh(predictions, f1_raw, null_odds, has_answer)
    return out


def _get_raw_scores(references, predictions):
    """Per question `exact`, `f1` dicts, before any null-odds threshold."""
    exact, f1 = {}, {}
    for question_id, answers in references.items():
        # References that normalize to nothing are dropped; none left means unanswerable.
        gold = [a for a in answers if normalize_answer(a)] or [""]
        exact[question_id], f1[question_id] = _best_match(predictions[question_id], gold)
    return exact, f1


def _apply_no_ans_threshold(scores, null_odds, has_answer, na_prob_thresh):
    """A question with odds above the threshold scores as answered empty: 1 iff it is unanswerable."""
    return {question_id: float(not has_answer[question_id]) if null_odds[question_id] > na_prob_thresh else score
            for question_id, score in scores.items()}


def _make_eval_dict(exact_scores, f1_scores, question_ids=None):
    question_ids = list(exact_scores) if question_ids is None else question_ids
    total = len(question_ids)
    return {"exact": 100.0 * sum(exact_scores[q] for q in question_ids) / total,
            "f1": 100.0 * sum(f1_scores[q] for q in question_ids) / total,
            "total": total}


def _find_best_thresh(predictions, scores, null_odds, has_answer):
    """`(best score in percent, its threshold)` over null-odds thresholds, the official way.

    Starts from every question answered empty (each unanswerable one scores
    1) at threshold 0.0, then answers the questions one by one in increasing
    odds (a stable sort: ties keep `null_odds`' order): an answerable one
    adds its score, an unanswerable one loses 1 if its prediction is
    non-empty. A threshold is kept only when the running score strictly
    beats the best so far.
    """
    current = best = sum(1 for has in has_answer.values() if not has)
    best_thresh = 0.0
    for question_id in sorted(null_odds, key=lambda q: null_odds[q]):
        if question_id not in scores:
            continue
        if has_answer[question_id]:
            current += scores[question_id]
        elif predictions[question_id]:  # the raw text, as the official script tests it
            current -= 1
        if current > best:
            best, best_thresh = current, null_odds[question_id]
    return 100.0 * best / len(scores), best_thresh
