"""Presets through the real download code, against a loopback server: Hugging Face hub, Google zips, mirror,
resume, checksums, locking, offline use and casing."""

import json
import shutil
import os
import subprocess
import sys
import zipfile

import keras
import numpy as np
import pytest
import tensorflow as tf

from conftest import REPO_ROOT
from loopback_server import LoopbackServer

import keras_bert
from keras_bert.presets import CacheError, checkpoint_lower_case, checkpoint_path, get_preset
from keras_bert.text import BertPreprocessor, BertTokenizer

HF_REPO = "test-org/tiny-cased-bert"
CASED_TEXTS = ["The World said Hello.", "the world said hello", "Paris, The city"]
_WORDS = ["The", "the", "World", "world", "Hello", "hello", "Paris", "paris", "said", "city"]
CASED_VOCAB = (["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", ".", ","] + _WORDS
               + [c for c in "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"]
               + ["##" + c for c in "abcdefghijklmnopqrstuvwxyz"])
TINY_ZIP = "mirror/storage.googleapis.com/bert_models/2020_02_20/uncased_L-2_H-128_A-2.zip"


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """A served tree: a Hugging Face repo (cased, written by transformers) and a Google zip (ours, uncased)."""
    transformers = pytest.importorskip("transformers")
    root = tmp_path_factory.mktemp("served")
    repo = root / HF_REPO / "resolve" / "main"
    config = transformers.BertConfig(vocab_size=len(CASED_VOCAB), hidden_size=32, num_hidden_layers=2,
                                     num_attention_heads=2, intermediate_size=37, max_position_embeddings=64,
                                     initializer_range=1.0)  # Large weights: outputs depend on every id.
    transformers.BertModel(config).save_pretrained(repo, safe_serialization=True)
    (repo / "vocab.txt").write_text("\n".join(CASED_VOCAB) + "\n", encoding="utf-8")
    (repo / "tokenizer_config.json").write_text(json.dumps({"do_lower_case": False}))

    release = tmp_path_factory.mktemp("release") / "uncased_L-2_H-128_A-2"
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "world", "hello", "##s", "."]
    release.mkdir()
    (release / "vocab.txt").write_text("\n".join(vocab) + "\n")
    encoder = keras_bert.BertEncoder(vocab_size=len(vocab), hidden_size=16, num_layers=2, num_attention_heads=2,
                                     intermediate_size=24, max_position_embeddings=64)
    keras_bert.save_tf1_checkpoint(encoder, release, vocab_file=release / "vocab.txt")
    zip_path = root / TINY_ZIP
    zip_path.parent.mkdir(parents=True)
    with zipfile.ZipFile(zip_path, "w") as zipped:
        for file in sorted(release.iterdir()):
            zipped.write(file, f"{release.name}/{file.name}")
    return {"root": root, "hf_dir": repo, "release": release}


@pytest.fixture
def server(served):
    with LoopbackServer(served["root"]) as running:
        yield running


@pytest.fixture
def cache(tmp_path, monkeypatch, server):
    """An empty cache, the hub at the loopback server, no mirror, online."""
    monkeypatch.setenv("KERAS_BERT_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("HF_ENDPOINT", server.url)
    monkeypatch.delenv("KERAS_BERT_MIRROR", raising=False)
    monkeypatch.delenv("KERAS_BERT_OFFLINE", raising=False)
    return tmp_path / "cache"


def _same_weights(a, b):
    assert sorted(a.weights) == sorted(b.weights)
    for name in a.weights:
        np.testing.assert_array_equal(a.weights[name], b.weights[name], err_msg=name)


def test_hugging_face_repo_loads_the_served_weights_with_the_publisher_checksum(served, server, cache):
    checkpoint = keras_bert.read_checkpoint(f"hf://{HF_REPO}")
    _same_weights(checkpoint, keras_bert.read_checkpoint(served["hf_dir"]))
    manifest = json.loads((cache / "hf" / HF_REPO / "main" / "keras_bert_manifest.json").read_text())
    assert manifest["files"]["model.safetensors"]["checked_by"] == "publisher"
    assert manifest["files"]["config.json"]["checked_by"] == "first download"
    assert set(manifest["files"]) == {"config.json", "vocab.txt", "tokenizer_config.json", "model.safetensors"}
    # The weight file came through the hub's redirect to its CDN, fetched once.
    assert server.gets("model.safetensors") == [(f"/cdn/{HF_REPO}/resolve/main/model.safetensors", None)]
    requests = len(server.requests)
    encoder = keras_bert.load_encoder(f"hf://{HF_REPO}")  # Cached: no request at all.
    assert len(server.requests) == requests and encoder.config.hidden_size == 32


def test_google_zip_preset_through_the_mirror(served, server, cache, monkeypatch):
    monkeypatch.setenv("KERAS_BERT_MIRROR", server.url + "/mirror")
    assert get_preset("bert_tiny_en_uncased").source.startswith("https://storage.googleapis.com/")
    encoder = keras_bert.load_encoder("bert_tiny_en_uncased")
    original = keras_bert.read_checkpoint(served["release"])
    _same_weights(keras_bert.read_checkpoint("bert_tiny_en_uncased"), original)
    assert encoder.config == original.config
    assert [path for path, _ in server.gets(".zip")] == ["/" + TINY_ZIP]
    assert checkpoint_path("bert_tiny_en_uncased").endswith("uncased_L-2_H-128_A-2")


def test_a_connection_cut_mid_file_resumes_with_a_range_request(served, server, cache, capfd):
    weights = f"/cdn/{HF_REPO}/resolve/main/model.safetensors"
    server.cut_once.add(weights)
    _same_weights(keras_bert.read_checkpoint(f"hf://{HF_REPO}"), keras_bert.read_checkpoint(served["hf_dir"]))
    size = (served["hf_dir"] / "model.safetensors").stat().st_size
    assert server.gets("model.safetensors") == [(weights, None), (weights, f"bytes={size // 2}-")]
    assert "connection lost after" in capfd.readouterr().err


def test_a_corrupted_cached_file_is_detected_at_the_next_load(server, cache):
    keras_bert.read_checkpoint(f"hf://{HF_REPO}")
    cached = cache / "hf" / HF_REPO / "main" / "model.safetensors"
    data = bytearray(cached.read_bytes())
    data[-1] ^= 1
    cached.write_bytes(bytes(data))
    with pytest.raises(CacheError, match=r"model.safetensors is corrupted: its sha256 is [0-9a-f]{64}, but "
                                         r"[0-9a-f]{64} was recorded \(publisher\)"):
        keras_bert.read_checkpoint(f"hf://{HF_REPO}")


def test_a_download_that_does_not_match_the_publisher_checksum_is_refused(server, cache):
    server.wrong_sha256.add(f"/{HF_REPO}/resolve/main/model.safetensors")
    with pytest.raises(CacheError, match="downloaded model.safetensors has sha256 .* but the publisher states"):
        checkpoint_path(f"hf://{HF_REPO}")
    assert not (cache / "hf" / HF_REPO / "main").exists()


def test_offline_loads_from_the_cache_with_the_server_stopped(served, server, cache, monkeypatch):
    keras_bert.read_checkpoint(f"hf://{HF_REPO}")
    server.stop()
    monkeypatch.setenv("KERAS_BERT_OFFLINE", "1")
    _same_weights(keras_bert.read_checkpoint(f"hf://{HF_REPO}"), keras_bert.read_checkpoint(served["hf_dir"]))
    monkeypatch.delenv("KERAS_BERT_OFFLINE")  # Cached entries need no network either.
    assert keras_bert.load_encoder(f"hf://{HF_REPO}").config.num_layers == 2


def test_uncached_offline_or_unreachable_gives_the_ways_to_fill_the_cache(server, cache, monkeypatch):
    monkeypatch.setenv("KERAS_BERT_OFFLINE", "1")
    with pytest.raises(CacheError) as offline:
        keras_bert.load_encoder("bert_base_en_uncased")
    message = str(offline.value)
    assert "preset 'bert_base_en_uncased'" in message and str(cache) in message
    assert "KERAS_BERT_OFFLINE is set" in message and "KERAS_BERT_MIRROR" in message
    monkeypatch.delenv("KERAS_BERT_OFFLINE")
    server.stop()
    with pytest.raises(CacheError, match="hf://test-org/tiny-cased-bert is not in the cache .* the network is "
                                         "unreachable"):
        keras_bert.read_checkpoint(f"hf://{HF_REPO}")


def test_two_processes_fetching_at_once_leave_one_good_copy(served, server, cache):
    server.seconds_per_chunk = 0.05
    script = f"from keras_bert.presets import checkpoint_path; print(checkpoint_path('hf://{HF_REPO}'))"
    workers = [subprocess.Popen([sys.executable, "-c", script], cwd=REPO_ROOT, env=os.environ.copy(),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [worker.communicate(timeout=300) for worker in workers]
    assert [worker.returncode for worker in workers] == [0, 0], outputs[0][1][-2000:] + outputs[1][1][-2000:]
    paths = {out.strip().splitlines()[-1] for out, _ in outputs}
    assert paths == {str(cache / "hf" / HF_REPO / "main")}
    assert len(server.gets("model.safetensors")) == 1  # The second process waited, then used the first's copy.
    assert sorted(os.listdir(cache / "hf" / HF_REPO)) == ["main", "main.lock"]  # No partial copy left.
    _same_weights(keras_bert.read_checkpoint(f"hf://{HF_REPO}"), keras_bert.read_checkpoint(served["hf_dir"]))


def test_a_gfile_path_is_copied_into_the_cache(served, cache):
    remote = "ram://bucket/tiny-release"
    tf.io.gfile.makedirs(remote)
    for file in served["release"].iterdir():
        tf.io.gfile.copy(str(file), f"{remote}/{file.name}", overwrite=True)
    _same_weights(keras_bert.read_checkpoint(remote), keras_bert.read_checkpoint(served["release"]))
    prefix = keras_bert.read_checkpoint(f"{remote}/bert_model.ckpt")
    _same_weights(prefix, keras_bert.read_checkpoint(served["release"]))


def test_a_cased_checkpoint_keeps_its_case(served, server, cache, caplog):
    tokenizers = pytest.importorskip("tokenizers")
    lower_case, reason = checkpoint_lower_case(f"hf://{HF_REPO}")
    assert (lower_case, reason.endswith("tokenizer_config.json says do_lower_case=False")) == (False, True)
    reference = tokenizers.BertWordPieceTokenizer(str(served["hf_dir"] / "vocab.txt"), lowercase=False)
    ours = BertTokenizer.from_preset(f"hf://{HF_REPO}")
    for text in CASED_TEXTS:
        assert ours(tf.constant([text])).to_list()[0] == reference.encode(text, add_special_tokens=False).ids
    assert ours(tf.constant(["The"])).to_list() != ours(tf.constant(["the"])).to_list()
    packed = BertPreprocessor.from_preset(f"hf://{HF_REPO}", seq_length=8)(tf.constant(CASED_TEXTS[:1]))
    assert packed["input_word_ids"].numpy().tolist()[0][:3] == [2, CASED_VOCAB.index("The"),
                                                                CASED_VOCAB.index("World")]
    with caplog.at_level("WARNING"):
        assert BertTokenizer.from_preset(f"hf://{HF_REPO}", lower_case=True).lower_case
    assert "do_lower_case=True overrides the checkpoint's casing: " in caplog.text
    assert "tokenizer_config.json says do_lower_case=False" in caplog.text


def test_a_cased_checkpoint_keeps_its_case_through_the_script_and_the_export(served, server, cache, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    rows = [f"{text}\t{i % 2}" for i, text in enumerate(CASED_TEXTS * 6)]
    for name in ("train.tsv", "dev.tsv"):
        (data / name).write_text("sentence\tlabel\n" + "\n".join(rows) + "\n")
    out, export = tmp_path / "out", tmp_path / "export"
    env = {**os.environ, "HF_ENDPOINT": server.url}
    common = dict(cwd=REPO_ROOT, capture_output=True, text=True, timeout=600, env=env)
    trained = subprocess.run([sys.executable, "examples/run_classifier.py", f"--init_checkpoint=hf://{HF_REPO}",
                              f"--data_dir={data}", f"--output_dir={out}", "--num_train_epochs=1",
                              "--train_batch_size=6", "--max_seq_length=16", "--seed=1"], **common)
    assert trained.returncode == 0, trained.stderr[-3000:]
    assert json.loads((out / "serving.json").read_text())["lower_case"] is False
    exported = subprocess.run([sys.executable, "examples/export_saved_model.py", f"--model_dir={out}",
                               f"--export_dir={export}"], **common)
    assert exported.returncode == 0, exported.stderr[-3000:]
    served_probabilities = tf.saved_model.load(str(export)).signatures["serving_default"](
        text=tf.constant(CASED_TEXTS))["probabilities"].numpy()
    classifier = keras.saving.load_model(out / "classifier.keras")

    def logits(lower_case):
        preprocessor = BertPreprocessor(str(served["hf_dir"] / "vocab.txt"), 16, lower_case=lower_case)
        return classifier(preprocessor(tf.constant(CASED_TEXTS))).numpy()

    np.testing.assert_allclose(served_probabilities, tf.nn.softmax(logits(lower_case=False)), atol=1e-5)
    # Lowercasing must change the answer by far more than that tolerance, or the check above proves nothing.
    # Logits, not probabilities: after one epoch on 24 rows the probabilities sit near 0.5, where softmax
    # shrinks differences (one CI run saw 7e-4 between the two casings).
    assert np.abs(logits(lower_case=True) - logits(lower_case=False)).max() > 1e-4


def test_unknown_names_get_the_closest_presets(cache):
    with pytest.raises(ValueError, match="Did you mean: bert_base_en_uncased"):
        keras_bert.load_encoder("bert_base_en_uncsed")
    with pytest.raises(ValueError, match="write hf://someone/unknown-bert"):
        keras_bert.read_checkpoint("someone/unknown-bert")
    with pytest.raises(FileNotFoundError):
        keras_bert.read_checkpoint("./no/such/dir")


def test_pretrainer_from_preset_keeps_the_release_heads(tmp_path):
    from keras_bert.checkpoints import head_weights

    trained = keras_bert.BertPretrainer(keras_bert.BertEncoder(vocab_size=23, hidden_size=8, num_layers=1,
                                                               num_attention_heads=2, intermediate_size=12))
    keras_bert.save_tf1_checkpoint(trained.encoder, tmp_path, extra_weights=head_weights(trained))
    revived = keras_bert.BertPretrainer.from_preset(str(tmp_path))
    for name in ("nsp", "masked_lm"):
        for a, b in zip(revived.get_layer(name).weights, trained.get_layer(name).weights):
            np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=name)


def test_the_embedded_preset_needs_no_download(cache, monkeypatch, minilm_path):
    monkeypatch.setenv("KERAS_BERT_OFFLINE", "1")
    assert checkpoint_path("all-MiniLM-L6-v2") == minilm_path
    assert BertTokenizer.from_preset("sentence-transformers/all-MiniLM-L6-v2").lower_case is True


def test_http_directories_in_either_layout(served, server, cache, tmp_path):
    hf_url = f"{server.url}/{HF_REPO}/resolve/main"
    _same_weights(keras_bert.read_checkpoint(hf_url), keras_bert.read_checkpoint(served["hf_dir"]))
    google = served["root"] / "releases" / "tiny"
    shutil.copytree(served["release"], google, dirs_exist_ok=True)
    _same_weights(keras_bert.read_checkpoint(f"{server.url}/releases/tiny/"),
                  keras_bert.read_checkpoint(served["release"]))
    with pytest.raises(FileNotFoundError, match="bert_config.json does not exist"):
        checkpoint_path(f"{server.url}/releases/nothing-here")
