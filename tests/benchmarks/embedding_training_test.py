"""benchmarks/embedding_training.py at tiny settings: both sides train and are scored; the table and JSON agree."""

import json
import subprocess
import sys

import pytest

from conftest import REPO_ROOT


def test_tiny_side_by_side_run(tmp_path, minilm_path):
    pytest.importorskip("sentence_transformers")
    output = tmp_path / "results.json"
    result = subprocess.run(
        [sys.executable, "benchmarks/embedding_training.py", "--max_train_examples=16", "--train_batch_size=8",
         "--max_eval_examples=24", "--max_seq_length=24", f"--output_json={output}"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(output.read_text())
    assert report["settings"]["steps"] == 2 and report["settings"]["dev_pairs"] == 24
    ours, theirs = report["results"]["keras_bert"], report["results"]["sentence_transformers"]
    # Before training both score the same weights on the same pairs: the same embeddings, the same ranks.
    assert ours["spearman_cosine_before"] == pytest.approx(theirs["spearman_cosine_before"], abs=1e-4)
    for side in (ours, theirs):
        assert -1 <= side["spearman_cosine"] <= 1 and side["epoch_seconds"] > 0
    assert f"| keras_bert | {100 * ours['spearman_cosine_before']:.2f} |" in result.stdout
