"""examples/train_embeddings.py: a short real run whose reported dev Spearman and exported SavedModel are
checked independently, and bad input reported by file and line, without a traceback."""

import json
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest
import scipy.stats

from conftest import REPO_ROOT
from keras_bert.data import read_glue_tsv

BUNDLED = REPO_ROOT / "examples/data/mrpc"
DEV_PAIRS = 80


def _run(*flags):
    return subprocess.run([sys.executable, "examples/train_embeddings.py", *flags], cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=600)


def test_bundled_data_is_mrpc(shared_data):
    for name in ("train.tsv", "dev.tsv"):
        assert (BUNDLED / name).read_bytes() == (shared_data / "glue/mrpc" / name).read_bytes()


@pytest.fixture(scope="module")
def trained(tmp_path_factory, minilm_path):
    """16 steps of MultipleNegativesRankingLoss on 128 MRPC paraphrase pairs, scored on 80 dev pairs."""
    out = tmp_path_factory.mktemp("embeddings")
    result = _run(f"--output_dir={out}", "--max_train_examples=128", "--train_batch_size=8", "--max_seq_length=32",
                  f"--max_eval_examples={DEV_PAIRS}", "--evaluation_strategy=steps", "--eval_steps=8")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Training embeddings with mnrl on 128 rows" in result.stdout and "for 16 steps" in result.stdout
    return out


def test_reported_spearman_is_the_saved_models(trained):
    results = json.loads((trained / "eval_results.json").read_text())
    assert set(results) == {"step", "epoch", "spearman_cosine", "pearson_cosine"}
    embedder = keras.saving.load_model(trained / "model.keras")
    dev = read_glue_tsv("mrpc", BUNDLED / "dev.tsv").first(DEV_PAIRS)
    first, second = embedder.encode(dev.text_a), embedder.encode(dev.text_b)
    cosine = np.sum(first * second, -1) / np.linalg.norm(first, axis=-1) / np.linalg.norm(second, axis=-1)
    expected = scipy.stats.spearmanr(cosine, dev.labels).statistic
    assert results["spearman_cosine"] == pytest.approx(expected, abs=1e-6)
    assert results["pearson_cosine"] == pytest.approx(scipy.stats.pearsonr(cosine, dev.labels).statistic, abs=1e-6)
    assert 0.2 < results["spearman_cosine"] < 0.7  # paraphrases (1) closer than the rest (0), not perfectly
    serving = json.loads((trained / "serving.json").read_text())
    assert (serving["task"], serving["pooling"], serving["normalize"]) == ("embeddings", "mean", True)


def test_exported_saved_model_embeds_as_the_saved_model_in_a_fresh_process(trained, tmp_path):
    texts = ["A man is playing a guitar.", "Stocks fell sharply on Monday.", ""]
    script = textwrap.dedent(f"""
        import numpy as np
        import tensorflow as tf
        import tensorflow_text  # noqa: F401 (the tokenizer's ops)
        serve = tf.saved_model.load({str(trained / "saved_model")!r}).signatures["serving_default"]
        np.save({str(tmp_path / "served.npy")!r}, serve(text=tf.constant({texts!r}))["embedding"].numpy())
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    embedder = keras.saving.load_model(trained / "model.keras")
    np.testing.assert_allclose(np.load(tmp_path / "served.npy"), embedder.encode(texts), atol=1e-5)


def test_nodo_train_rescores_the_saved_model(trained):
    before = json.loads((trained / "eval_results.json").read_text())
    result = _run(f"--output_dir={trained}", "--nodo_train", f"--max_eval_examples={DEV_PAIRS}")
    assert result.returncode == 0, result.stderr[-3000:]
    after = json.loads((trained / "eval_results.json").read_text())
    assert after["spearman_cosine"] == pytest.approx(before["spearman_cosine"], abs=1e-6)


def _error_line(result):
    assert result.returncode != 0 and "Traceback" not in result.stderr, result.stderr[-3000:]
    return result.stderr.strip().splitlines()[-1]


def test_a_missing_column_is_named_with_the_header(tmp_path):
    train = tmp_path / "train.tsv"
    train.write_text("query\tanswer\nWho?\tAnn.\n", encoding="utf-8")
    line = _error_line(_run(f"--train_file={train}", f"--output_dir={tmp_path / 'out'}"))
    assert line == (f"train_embeddings.py: {train}: no column(s) ['anchor', 'positive']; its header has ['query', "
                    "'answer']. Name the columns to read (--anchor_column=, --positive_column=, ...), or fix the "
                    "header.")


def test_a_bad_row_is_named_by_file_and_line(tmp_path):
    dev = tmp_path / "dev.jsonl"
    dev.write_text('{"anchor": "A cat.", "positive": "A kitten.", "score": 0.9}\n\n'
                   '{"anchor": "A cat.", "positive": "Stocks.", "score": "low"}\n', encoding="utf-8")
    line = _error_line(_run(f"--dev_file={dev}", "--nodo_train", f"--output_dir={tmp_path}"))
    assert line == (f"train_embeddings.py: {dev}, line 3: score 'low' is not a number; fix the row, or pass "
                    "--skip_bad_rows=True to skip such rows.")
