"""TFLite classifiers (tokenizer inside) predict what the library predicts, on real sentences and bad input."""

import os

import numpy as np
import pytest
import tensorflow as tf

import keras_bert
from keras_bert.export import export_tflite, load_tflite
from keras_bert.text import BertPreprocessor
from real_data import read_mrpc_pairs, read_sst2

SEQ_LENGTH = 64


@pytest.fixture(scope="module")
def encoder(minilm_path):
    return keras_bert.load_encoder(minilm_path)


def _classifier(encoder, num_classes):
    """The real encoder under a seeded head: its outputs spread, so a wrong piece shows."""
    model = keras_bert.BertClassifier(encoder, num_classes)
    head = model.get_layer("logits")
    head.kernel.assign(np.random.default_rng(0).normal(0, 0.5, head.kernel.shape).astype("float32"))
    return model


def _library_probabilities(model, preprocessor, segments):
    logits = model.predict(preprocessor(segments), verbose=0)
    return tf.nn.softmax(logits).numpy() if logits.shape[-1] > 1 else logits[:, 0]


def _as_bytes(texts):
    return np.array([t.encode("utf-8") if isinstance(t, str) else t for t in texts], dtype=object).astype(bytes)


def test_sentence_classifier_equals_library_on_sst2(encoder, minilm_path, shared_data, tmp_path):
    preprocessor = BertPreprocessor(f"{minilm_path}/vocab.txt", SEQ_LENGTH)
    model = _classifier(encoder, 2)
    path = export_tflite(model, preprocessor, tmp_path / "sst2.tflite", label_names=["negative", "positive"])
    texts = read_sst2(shared_data, "dev")[:200]
    out = load_tflite(str(path)).get_signature_runner()(text=_as_bytes(texts))
    expected = _library_probabilities(model, preprocessor, tf.constant(texts))
    assert expected.std() > 0.05  # the head separates sentences
    np.testing.assert_allclose(out["probabilities"], expected, atol=2e-5)
    np.testing.assert_array_equal(out["label_id"], expected.argmax(-1))
    assert [label.decode() for label in out["label"]] == [["negative", "positive"][i] for i in expected.argmax(-1)]


def test_int8_classifier_is_smaller_and_close_to_the_library_on_sst2(encoder, minilm_path, shared_data, tmp_path):
    preprocessor = BertPreprocessor(f"{minilm_path}/vocab.txt", SEQ_LENGTH)
    model = _classifier(encoder, 2)
    labels = ["negative", "positive"]
    float_path = export_tflite(model, preprocessor, tmp_path / "float.tflite", label_names=labels)
    int8_path = export_tflite(model, preprocessor, tmp_path / "int8.tflite", label_names=labels, precision="int8")
    texts = read_sst2(shared_data, "dev")[:200]
    out = load_tflite(str(int8_path)).get_signature_runner()(text=_as_bytes(texts))
    expected = _library_probabilities(model, preprocessor, tf.constant(texts))
    difference = np.abs(out["probabilities"] - expected).max()
    assert 1e-5 < difference < 0.05, difference  # quantized, and still the same model
    assert np.mean(out["label_id"] == expected.argmax(-1)) > 0.97
    # Every weight matrix, embeddings included, is stored in int8.
    assert os.path.getsize(int8_path) < 0.35 * os.path.getsize(float_path)
    with pytest.raises(ValueError, match="precision='bfloat16'; export_tflite writes float32"):
        export_tflite(model, preprocessor, tmp_path / "bf16.tflite", label_names=labels, precision="bfloat16")


def test_pair_classifier_and_regression_equal_library_on_mrpc(encoder, minilm_path, shared_data, tmp_path):
    preprocessor = BertPreprocessor(f"{minilm_path}/vocab.txt", 32)  # short: most pairs are trimmed
    pairs = read_mrpc_pairs(shared_data, "dev")[:60]
    a, b = [p[0] for p in pairs], [p[1] for p in pairs]
    for num_classes, names in ((3, ["x", "y", "z"]), (1, None)):
        model = _classifier(encoder, num_classes)
        path = export_tflite(model, preprocessor, tmp_path / f"pair{num_classes}.tflite", label_names=names, pair=True)
        out = load_tflite(str(path)).get_signature_runner()(text_a=_as_bytes(a), text_b=_as_bytes(b))
        expected = _library_probabilities(model, preprocessor, (tf.constant(a), tf.constant(b)))
        got = out["probabilities"] if num_classes > 1 else out["score"]
        np.testing.assert_allclose(got, expected, atol=2e-5)


def test_bad_input_gives_defined_outputs(encoder, minilm_path, tmp_path):
    preprocessor = BertPreprocessor(f"{minilm_path}/vocab.txt", SEQ_LENGTH)
    model = _classifier(encoder, 2)
    classify = load_tflite(
        str(export_tflite(model, preprocessor, tmp_path / "m.tflite", label_names=["n", "p"]))
    ).get_signature_runner()
    empty = classify(text=np.array([], dtype=bytes))
    assert empty["probabilities"].shape == (0, 2) and empty["label"].shape == (0,)
    texts = ["", "dull " * 5000, "a gorgeous, witty film"]
    out = classify(text=_as_bytes(texts))
    # Empty and over-long (truncated) text are classified as the library does.
    np.testing.assert_allclose(out["probabilities"], _library_probabilities(model, preprocessor, tf.constant(texts)),
                               atol=2e-5)
    invalid = classify(text=np.array([b"bad \xff\xfe bytes", b"\xc3"], dtype=object).astype(bytes))
    assert np.isfinite(invalid["probabilities"]).all()
    np.testing.assert_allclose(invalid["probabilities"].sum(-1), 1.0, atol=1e-6)


def test_misuse_is_named(encoder, minilm_path, tmp_path):
    preprocessor = BertPreprocessor(f"{minilm_path}/vocab.txt", SEQ_LENGTH)
    with pytest.raises(TypeError, match="BertClassifier"):
        export_tflite(keras_bert.BertSpanLabeler(encoder), preprocessor, tmp_path / "x.tflite")
    with pytest.raises(ValueError, match="label names"):
        export_tflite(_classifier(encoder, 2), preprocessor, tmp_path / "x.tflite", label_names=["only one"])
    (tmp_path / "exists.tflite").write_bytes(b"")
    with pytest.raises(FileExistsError, match="exists"):
        export_tflite(_classifier(encoder, 2), preprocessor, tmp_path / "exists.tflite", label_names=["a", "b"])
    with pytest.raises(FileNotFoundError, match="No TFLite file"):
        load_tflite(str(tmp_path / "missing.tflite"))
