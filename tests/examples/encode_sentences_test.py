import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

import keras_bert
from conftest import REPO_ROOT
from keras_bert.text import BertPreprocessor

SENTENCES = ["A man is playing a guitar.", "Someone is performing music.", "Stocks fell sharply."]


def test_mean_pooled_embeddings_equal_sentence_transformers(minilm_path):
    sentence_transformers = pytest.importorskip("sentence_transformers")
    reference = sentence_transformers.SentenceTransformer(minilm_path, device="cpu")
    expected = reference.encode(SENTENCES, normalize_embeddings=True)

    inputs = BertPreprocessor(f"{minilm_path}/vocab.txt", seq_length=128)(tf.constant(SENTENCES))
    outputs = keras_bert.load_encoder(minilm_path)(inputs)
    embeddings = tf.math.l2_normalize(keras_bert.mean_pool(outputs["sequence_output"], inputs["input_mask"]), -1)
    np.testing.assert_allclose(embeddings, expected, atol=1e-5)


def test_script_prints_the_similarity_matrix(minilm_path):
    result = subprocess.run(
        [sys.executable, "examples/encode_sentences.py", "--sentences=" + ",".join(SENTENCES)],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    lines = result.stdout.splitlines()
    assert lines[0] == "Cosine similarity of mean-pooled 6-layer BERT embeddings:"
    rows = [[float(v) for v in line.split()[-3:]] for line in lines[1:4]]
    assert [rows[i][i] for i in range(3)] == [1.0, 1.0, 1.0]
    assert lines[4] == "Most similar pair: [0] and [1] (%.3f)" % rows[0][1]


def test_script_reports_a_missing_checkpoint(tmp_path):
    result = subprocess.run(
        [sys.executable, "examples/encode_sentences.py", f"--checkpoint={tmp_path / 'nope'}"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode != 0
    assert result.stderr.strip().splitlines()[-1].startswith("encode_sentences.py: No checkpoint at")
    assert "Traceback" not in result.stderr
