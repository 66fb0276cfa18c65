import pytest

from keras_bert.metrics import normalize_answer, squad_scores, squad_v2_scores
from keras_bert.metrics.squad_metrics import token_f1


@pytest.mark.parametrize("text, normalized", [
    ("The Eiffel Tower", "eiffel tower"),
    ("an  apple, a pear & the plum!", "apple pear plum"),
    ("Théâtre", "théâtre"),  # the official script keeps accents
    ("U.S.A.", "usa"),
    ("", ""),
])
def test_normalization_follows_the_official_script(text, normalized):
    assert normalize_answer(text) == normalized


def test_scores_take_the_best_reference_and_count_missing_predictions():
    references = {"q1": ["Denver Broncos", "The Denver Broncos"], "q2": ["Santa Clara, California"], "q3": ["Levi"]}
    predictions = {"q1": "the Denver Broncos", "q2": "Santa Clara"}
    # q1 exact; q2: 2 of 2 predicted tokens, 2 of 3 reference tokens -> F1 0.8; q3 missing -> 0.
    assert squad_scores(references, predictions) == pytest.approx({"exact_match": 100 / 3, "f1": 180 / 3})


def test_unanswerable_questions_v2():
    assert token_f1("", "") == 1.0 and token_f1("something", "") == 0.0
    assert squad_scores({"q": []}, {"q": ""}) == {"exact_match": 100.0, "f1": 100.0}


# SQuAD v2.0, the official evaluate-v2.0.py rules, on four questions worked out by hand:
#   q1 answerable, predicted exactly:                 exact 1, f1 1,   null odds -2.0
#   q2 answerable, "Santa Clara" of 3 reference tokens: exact 0, f1 0.8, null odds  1.0
#       (precision 2/2, recall 2/3 -> F1 2 * 1 * 2/3 / (5/3) = 0.8)
#   q3 unanswerable, predicted "Levi":                exact 0, f1 0,   null odds  1.5
#   q4 unanswerable, predicted "":                    exact 1, f1 1,   null odds  3.0
V2_REFERENCES = {"q1": ["Denver Broncos"], "q2": ["Santa Clara, California"], "q3": [], "q4": []}
V2_PREDICTIONS = {"q1": "Denver Broncos", "q2": "Santa Clara", "q3": "Levi", "q4": ""}
V2_NULL_ODDS = {"q1": -2.0, "q2": 1.0, "q3": 1.5, "q4": 3.0}


def test_v2_scores_by_hand():
    scores = squad_v2_scores(V2_REFERENCES, V2_PREDICTIONS, V2_NULL_ODDS)
    # na_prob_thresh 1.0: odds above it (q3 1.5, q4 3.0) count as "" -> 1 each, as both are unanswerable;
    # q2's 1.0 is not above it and keeps its raw scores.
    #   exact: 1 + 0 + 1 + 1 = 3 of 4; f1: 1 + 0.8 + 1 + 1 = 3.8 of 4.
    # best thresholds, in increasing odds q1, q2, q3, q4, from "all empty" = 2 (the unanswerable ones) at 0.0:
    #   exact: q1 +1 -> 3 (best, -2.0); q2 +0 -> 3 (not strictly better: stays -2.0); q3 "Levi" -1 -> 2; q4 "" 0.
    #   f1:    q1 +1 -> 3 (best, -2.0); q2 +0.8 -> 3.8 (best, 1.0); q3 -1 -> 2.8; q4 +0 -> 2.8.
    assert scores == pytest.approx({
        "exact": 75.0, "f1": 95.0, "total": 4,
        "HasAns_exact": 50.0, "HasAns_f1": 90.0, "HasAns_total": 2,  # (1 + 0) / 2, (1 + 0.8) / 2
        "NoAns_exact": 100.0, "NoAns_f1": 100.0, "NoAns_total": 2,
        "best_exact": 75.0, "best_exact_thresh": -2.0, "best_f1": 95.0, "best_f1_thresh": 1.0,
    })
    assert list(scores)[:3] == ["exact", "f1", "total"] and isinstance(scores["total"], int)


def test_v2_na_prob_thresh_turns_high_odds_into_empty_answers():
    # At 0.0, q2 (1.0), q3 and q4 count as "": q2 answerable -> 0, q3 and q4 -> 1; q1 (-2.0) keeps 1.
    scores = squad_v2_scores(V2_REFERENCES, V2_PREDICTIONS, V2_NULL_ODDS, na_prob_thresh=0.0)
    assert (scores["exact"], scores["f1"], scores["HasAns_f1"], scores["NoAns_exact"]) == (75.0, 75.0, 50.0, 100.0)
    # At 5.0 nothing counts as "": the raw scores, 1 + 0 + 0 + 1 and 1 + 0.8 + 0 + 1.
    scores = squad_v2_scores(V2_REFERENCES, V2_PREDICTIONS, V2_NULL_ODDS, na_prob_thresh=5.0)
    assert (scores["exact"], scores["f1"], scores["NoAns_exact"]) == pytest.approx((50.0, 70.0, 50.0))
    # The best thresholds do not depend on na_prob_thresh.
    assert (scores["best_f1"], scores["best_f1_thresh"]) == (95.0, 1.0)


def test_v2_best_threshold_stays_at_zero_when_answering_never_helps():
    # Start: 1 (q2 unanswerable, all empty) at 0.0. q1 (odds -1) is wrong: +0 -> 1, not better; q2 "x": -1 -> 0.
    scores = squad_v2_scores({"q1": ["Paris"], "q2": []}, {"q1": "Lyon", "q2": "x"}, {"q1": -1.0, "q2": 2.0})
    assert (scores["best_exact"], scores["best_exact_thresh"], scores["best_f1"], scores["best_f1_thresh"]) == (
        50.0, 0.0, 50.0, 0.0)


def test_v2_equal_odds_are_tried_in_the_order_of_null_odds():
    # q1 answerable and right, q2 unanswerable but answered, both at odds 0.5. Sorting is stable, so the order of
    # null_odds decides, as in the official script: q1 first -> 2 of 2 at 0.5 (best); q2 first -> 0, then 1 (not
    # better than the start, 1), so the threshold stays 0.0.
    references, predictions = {"q1": ["Paris"], "q2": []}, {"q1": "Paris", "q2": "x"}
    first = squad_v2_scores(references, predictions, {"q1": 0.5, "q2": 0.5})
    assert (first["best_exact"], first["best_exact_thresh"]) == (100.0, 0.5)
    second = squad_v2_scores(references, predictions, {"q2": 0.5, "q1": 0.5})
    assert (second["best_exact"], second["best_exact_thresh"]) == (50.0, 0.0)


def test_v2_empty_predictions_and_references():
    # A prediction normalizing to nothing is still non-empty text for find_best_thresh (the official test is
    # `if preds[qid]`): q1's " the " scores exact 1 against the unanswerable reference but costs 1 when answered.
    scores = squad_v2_scores({"q1": []}, {"q1": " the "}, {"q1": -1.0})
    assert (scores["exact"], scores["best_exact"], scores["best_exact_thresh"]) == (100.0, 100.0, 0.0)
    # References that normalize to nothing are dropped: "The" alone makes q1 unanswerable for scoring, but it
    # still counts as answerable (HasAns), as the official script reads `bool(qa["answers"])`.
    scores = squad_v2_scores({"q1": ["The"]}, {"q1": ""}, {"q1": -1.0})
    assert (scores["exact"], scores["HasAns_total"]) == (100.0, 1) and "NoAns_total" not in scores


def test_v2_missing_predictions_or_odds_are_refused_and_extras_ignored():
    with pytest.raises(ValueError, match="no prediction for 1 of 2 questions, e.g. 'q2'"):
        squad_v2_scores({"q1": ["a"], "q2": []}, {"q1": "a"}, {"q1": 0.0, "q2": 0.0})
    with pytest.raises(ValueError, match="no null odds for 1 of 1 questions"):
        squad_v2_scores({"q1": ["a"]}, {"q1": "a"}, {})
    with pytest.raises(ValueError, match="no questions"):
        squad_v2_scores({}, {}, {})
    scores = squad_v2_scores({"q1": ["a"]}, {"q1": "a", "extra": "b"}, {"extra": -9.0, "q1": 0.25})
    assert (scores["exact"], scores["best_exact_thresh"], "NoAns_total" in scores) == (100.0, 0.25, False)


def test_v1_and_v2_agree_on_raw_scores():
    # With no odds above na_prob_thresh, v2's exact/f1 are v1's exact_match/f1 over the same references.
    v1 = squad_scores(V2_REFERENCES, V2_PREDICTIONS)
    v2 = squad_v2_scores(V2_REFERENCES, V2_PREDICTIONS, {q: -1.0 for q in V2_REFERENCES})
    assert (v2["exact"], v2["f1"]) == pytest.approx((v1["exact_match"], v1["f1"]))
