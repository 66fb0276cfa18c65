"""`BertTextEmbedder` against sentence-transformers on the real all-MiniLM-L6-v2 weights."""

import json
import subprocess
import sys

import keras
import numpy as np
import pytest
import scipy.stats
import tensorflow as tf

from keras_bert import BertTextEmbedder
from keras_bert.export import export_saved_model
from real_data import read_mrpc_pairs, read_sst2, read_wiki_paragraphs

sentence_transformers = pytest.importorskip("sentence_transformers")
import sentence_transformers.evaluation  # noqa: E402 (after the skip)


@pytest.fixture(scope="module")
def embedder(minilm_path):
    return BertTextEmbedder.from_preset(minilm_path)


@pytest.fixture(scope="module")
def reference(minilm_path):
    return sentence_transformers.SentenceTransformer(minilm_path, device="cpu")


@pytest.fixture(scope="module")
def texts(shared_data):
    # Short reviews, paragraphs longer than the 256-piece limit (both truncate), an empty and a non-ASCII text.
    return read_sst2(shared_data, "dev")[:80] + read_wiki_paragraphs(shared_data, 12) + ["", "Crème brûlée à Zürich"]


def test_from_preset_reads_the_checkpoints_own_settings(embedder):
    assert (embedder.pooling, embedder.normalize, embedder.preprocessor.seq_length) == ("mean", True, 256)


def test_embeddings_equal_sentence_transformers_in_the_input_order(embedder, reference, texts):
    ours = embedder.encode(texts, batch_size=16)
    theirs = reference.encode(texts, batch_size=16)
    assert ours.shape == (len(texts), 384) and ours.dtype == np.float32
    np.testing.assert_allclose(ours, theirs, atol=1e-5)
    np.testing.assert_allclose(embedder.encode(texts[3]), theirs[3], atol=1e-5)  # one string: one vector


def test_cosine_spearman_on_mrpc_equals_sentence_transformers(embedder, reference, shared_data):
    pairs = read_mrpc_pairs(shared_data, "dev", with_labels=True)
    first, second, labels = (list(column) for column in zip(*pairs))
    evaluator = sentence_transformers.evaluation.EmbeddingSimilarityEvaluator(first, second, labels, name="mrpc")
    theirs = evaluator(reference)["mrpc_spearman_cosine"]
    cosines = np.sum(embedder.encode(first) * embedder.encode(second), axis=1)  # unit vectors
    ours = scipy.stats.spearmanr(cosines, labels).statistic
    assert abs(ours - theirs) < 1e-4, (ours, theirs)
    assert ours > 0.2  # paraphrases are closer: the embeddings carry meaning


@pytest.mark.parametrize("pooling", ["cls", "max"])
def test_other_poolings_equal_sentence_transformers_pooling(minilm_path, texts, pooling):
    models = sentence_transformers.models
    transformer = models.Transformer(minilm_path, max_seq_length=256)
    pool = models.Pooling(transformer.get_word_embedding_dimension(), pooling_mode=pooling)
    reference = sentence_transformers.SentenceTransformer(modules=[transformer, pool], device="cpu")
    embedder = BertTextEmbedder.from_preset(minilm_path, pooling=pooling, normalize=False)
    np.testing.assert_allclose(embedder.encode(texts[:40]), reference.encode(texts[:40]), atol=1e-4, rtol=1e-5)


def test_keras_file_keeps_the_preprocessor(embedder, texts, tmp_path):
    embedder.save(tmp_path / "embedder.keras")
    loaded = keras.saving.load_model(tmp_path / "embedder.keras")
    assert loaded.preprocessor.seq_length == 256
    np.testing.assert_allclose(loaded.encode(texts[:20]), embedder.encode(texts[:20]), atol=1e-6)


def test_saved_model_serves_the_same_embeddings_in_a_fresh_process(embedder, texts, tmp_path):
    export_saved_model(embedder, embedder.preprocessor, tmp_path / "saved_model")
    script = f"""
import sys, json
import tensorflow as tf
import tensorflow_text  # noqa: F401 (registers the tokenizer ops)
serve = tf.saved_model.load({str(tmp_path / 'saved_model')!r}).signatures["serving_default"]
texts = json.load(open({str(tmp_path / 'texts.json')!r}))
tf.io.write_file({str(tmp_path / 'out.bin')!r}, tf.io.serialize_tensor(serve(text=tf.constant(texts))["embedding"]))
assert not [m for m in sys.modules if m.startswith("keras_bert")]
"""
    (tmp_path / "texts.json").write_text(json.dumps(texts[:30]))
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    served = tf.io.parse_tensor(tf.io.read_file(str(tmp_path / "out.bin")), tf.float32).numpy()
    np.testing.assert_allclose(served, embedder.encode(texts[:30]), atol=1e-5)


def test_encode_names_what_is_wrong(minilm_path, embedder):
    with pytest.raises(TypeError, match=r"texts\[1\] is a int"):
        embedder.encode(["fine", 3])
    with pytest.raises(ValueError, match="batch_size=0"):
        embedder.encode(["fine"], batch_size=0)
    bare = BertTextEmbedder(embedder.encoder)
    with pytest.raises(ValueError, match="no preprocessor"):
        bare.encode(["fine"])
    assert embedder.encode([]).shape == (0, 384)
