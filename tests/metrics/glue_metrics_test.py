import numpy as np
import pytest

from keras_bert.metrics import accuracy, f1, glue_metrics, matthews_corrcoef, pearson, spearman

sklearn_metrics = pytest.importorskip("sklearn.metrics")
scipy_stats = pytest.importorskip("scipy.stats")


@pytest.mark.parametrize("seed", range(5))
def test_classification_metrics_equal_scikit_learn(seed):
    rng = np.random.default_rng(seed)
    labels, predictions = rng.integers(0, 2, 300), rng.integers(0, 2, 300)
    assert accuracy(labels, predictions) == pytest.approx(sklearn_metrics.accuracy_score(labels, predictions))
    assert f1(labels, predictions) == pytest.approx(sklearn_metrics.f1_score(labels, predictions))
    assert matthews_corrcoef(labels, predictions) == pytest.approx(
        sklearn_metrics.matthews_corrcoef(labels, predictions)
    )


@pytest.mark.parametrize("seed", range(5))
def test_correlations_equal_scipy_with_ties(seed):
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 6, 200).astype(float)  # many ties, like STS-B's 0-5 scores
    y = x + rng.normal(size=200)
    assert pearson(x, y) == pytest.approx(scipy_stats.pearsonr(x, y).statistic)
    assert spearman(x, y) == pytest.approx(scipy_stats.spearmanr(x, y).statistic)


def test_degenerate_cases_and_task_keys():
    assert matthews_corrcoef([1, 1], [1, 1]) == 0.0  # sklearn's convention too
    assert f1([0, 0], [0, 0]) == 0.0
    assert set(glue_metrics("cola", [1, 0], [1, 0])) == {"matthews_corrcoef", "accuracy"}
    assert set(glue_metrics("stsb", [1.0, 2.0, 3.0], [1.5, 2.0, 2.5])) == {"pearson", "spearman"}
    with pytest.raises(ValueError, match="Unknown GLUE task 'sts'"):
        glue_metrics("sts", [1], [1])
