import pytest

from keras_bert.metrics import normalize_answer, squad_scores
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
