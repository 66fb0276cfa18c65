"""The time-to-quality benchmark's arithmetic, and its transformers side scored as transformers scores itself."""

import sys

import numpy as np
import pytest

from conftest import REPO_ROOT

sys.path.insert(0, str(REPO_ROOT / "benchmarks"))
import pretraining_time_to_quality as ttq  # noqa: E402


def _curve(*points):
    return [{"step": 10 * (i + 1), "train_seconds": s, "mlm_accuracy": a, "mlm_loss": 1.0}
            for i, (s, a) in enumerate(points)]


def test_time_to_reach_interpolates_between_evaluations():
    curve = _curve((10.0, 0.10), (20.0, 0.30), (30.0, 0.25))
    assert ttq.time_to_reach(curve, 0.20) == pytest.approx(15.0)  # halfway from 0.10 to 0.30
    assert ttq.time_to_reach(curve, 0.05) == pytest.approx(5.0)  # from the start (0 s, accuracy 0)
    assert ttq.time_to_reach(curve, 0.31) is None


def test_summary_divides_our_time_to_the_peers_final_accuracy_by_the_peers_time():
    results = {"float32": {"keras_bert": {"steps": 30, "curve": _curve((10.0, 0.10), (20.0, 0.30), (30.0, 0.35))},
                           "transformers": {"steps": 20, "curve": _curve((40.0, 0.15), (80.0, 0.20))}}}
    [row] = ttq.summarize(results)
    assert row["keras_bert_seconds_to_transformers_final"] == pytest.approx(15.0)
    assert row["time_ratio"] == pytest.approx(15.0 / 80.0)
    assert row["transformers"]["steps_per_second"] == pytest.approx(20 / 80.0)
    assert "| float32 | 15 s | 0.19x |" in ttq.markdown([row], {"cpu_count": 2})


@pytest.mark.parametrize("precision", ["float32", "bfloat16"])
def test_heldout_scores_equal_transformers_own_logits_at_the_masked_positions(precision):
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    torch.manual_seed(0)
    config = transformers.BertConfig(vocab_size=50, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                                     intermediate_size=32)
    model = transformers.BertForPreTraining(config)
    rng = np.random.default_rng(0)
    rows, length, slots = 70, 12, 3  # more rows than one evaluation batch
    heldout = {"input_word_ids": rng.integers(5, 50, (rows, length)).astype("int32"),
               "input_mask": np.ones((rows, length), "int32"), "input_type_ids": np.zeros((rows, length), "int32"),
               "masked_lm_positions": rng.integers(1, length, (rows, slots)).astype("int32"),
               "masked_lm_ids": rng.integers(5, 50, (rows, slots)).astype("int32"),
               "masked_lm_weights": (rng.random((rows, slots)) < 0.8).astype("float32"),
               "next_sentence_labels": np.zeros(rows, "int32")}
    autocast = torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bfloat16")
    accuracy, loss = ttq.torch_heldout_scores(model, heldout, autocast)

    assert model.training  # handed back in training mode, as the training loop needs it
    model.eval()
    # Independently: the full prediction_logits (every position), picked at the masked positions, in numpy.
    with torch.no_grad(), autocast:
        logits = model(input_ids=torch.from_numpy(heldout["input_word_ids"]).long()).prediction_logits.float().numpy()
    picked = np.take_along_axis(logits, heldout["masked_lm_positions"][..., None].astype(int), axis=1)
    log_probs = picked - np.log(np.exp(picked - picked.max(-1, keepdims=True)).sum(-1, keepdims=True)) \
        - picked.max(-1, keepdims=True)
    ids, weights = heldout["masked_lm_ids"], heldout["masked_lm_weights"]
    expected_loss = -(np.take_along_axis(log_probs, ids[..., None], -1)[..., 0] * weights).sum() / weights.sum()
    expected_accuracy = ((picked.argmax(-1) == ids) * weights).sum() / weights.sum()
    # bfloat16 rounds the two computations differently: a near-tie may flip (one of ~170 predictions is 0.006).
    assert accuracy == pytest.approx(expected_accuracy, abs=1e-6 if precision == "float32" else 0.02)
    assert loss == pytest.approx(expected_loss, rel=1e-4 if precision == "float32" else 2e-2)
