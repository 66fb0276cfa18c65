"""examples/create_pretraining_data.py: text -> TFRecords that run_pretraining.py reads."""

import subprocess
import sys

import numpy as np

from conftest import REPO_ROOT
from keras_bert.data import MaskingOptions, pretraining_dataset, record_layout


def _run(*flags):
    return subprocess.run(
        [sys.executable, "examples/create_pretraining_data.py", *flags],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=600,
    )


def _sample(tmp_path, articles=60):
    text = (REPO_ROOT / "examples/data/wiki_sample/heldout.txt").read_text(encoding="utf-8")
    path = tmp_path / "sample.txt"
    path.write_text("</doc>\n".join(text.split("</doc>\n")[:articles]) + "</doc>\n", encoding="utf-8")
    return path


def test_static_masking_records_are_read_as_written(tmp_path, minilm_path):
    outputs = [tmp_path / "a.tfrecord", tmp_path / "b.tfrecord"]
    result = _run(f"--input_file={_sample(tmp_path)}", f"--output_file={outputs[0]},{outputs[1]}",
                  "--max_seq_length=64", "--dupe_factor=2", "--static_masking", "--max_predictions_per_seq=10")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "instances to 2 file(s)" in result.stdout
    seq_length, features = record_layout(str(outputs[0]))
    assert seq_length == 64 and {"masked_lm_positions", "masked_lm_ids", "masked_lm_weights"} <= features
    masking = MaskingOptions.from_vocab_file(f"{minilm_path}/vocab.txt", max_predictions_per_seq=10)
    batches = list(pretraining_dataset([str(p) for p in outputs], 32, 64, masking, training=False))
    ids = np.concatenate([x["input_word_ids"].numpy() for x, _, _ in batches])
    weights = np.concatenate([w["mlm"].numpy() for _, _, w in batches])
    # The masks were drawn once: the share of [MASK] among inputs is there on disk.
    assert (ids == 103).sum() > 0.6 * weights.sum()
    assert 0.13 < weights.sum() / (ids[:, 1:] > 102).sum() < 0.17


def test_errors_name_the_problem(tmp_path, minilm_path):
    missing = _run("--input_file=/nonexistent/*.txt", f"--output_file={tmp_path}/x.tfrecord")
    assert missing.returncode != 0 and "No files match" in missing.stderr
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"good line\n\xff\xfe\n")
    result = _run(f"--input_file={bad}", f"--output_file={tmp_path}/x.tfrecord")
    assert result.returncode != 0 and "bad.txt:2 is not UTF-8" in result.stderr
