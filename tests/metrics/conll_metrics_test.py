import random

import pytest

from keras_bert.metrics import conll_scores, entities

seqeval_metrics = pytest.importorskip("seqeval.metrics")
seqeval_scheme = pytest.importorskip("seqeval.metrics.sequence_labeling")

TAGS = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC", "B-ORG", "I-ORG", "B-MISC", "I-MISC"]


def _random_sentences(rng, count):
    return [[rng.choice(TAGS) for _ in range(rng.randint(1, 15))] for _ in range(count)]


@pytest.mark.parametrize("seed", range(20))
def test_equals_seqeval_on_random_invalid_and_valid_sequences(seed):
    rng = random.Random(seed)
    gold = _random_sentences(rng, 50)
    # Predictions: mostly the gold tags, with random corruptions (I- after O, type switches).
    guess = [[tag if rng.random() < 0.7 else rng.choice(TAGS) for tag in sentence] for sentence in gold]
    ours = conll_scores(gold, guess)
    assert ours["precision"] == pytest.approx(seqeval_metrics.precision_score(gold, guess))
    assert ours["recall"] == pytest.approx(seqeval_metrics.recall_score(gold, guess))
    assert ours["f1"] == pytest.approx(seqeval_metrics.f1_score(gold, guess))
    for sentence in gold:
        assert entities(sentence) == [(t, s, e + 1) for t, s, e in seqeval_scheme.get_entities(sentence)]


def test_mismatched_lengths():
    with pytest.raises(ValueError, match="Sentence 0: 2 true vs 1 predicted tags"):
        conll_scores([["O", "O"]], [["O"]])
