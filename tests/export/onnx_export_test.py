"""ONNX files (tokenizer outside) compute what the library and its SavedModel compute, on real sentences."""

import sys

import numpy as np
import onnx
import onnxruntime
import pytest
import tensorflow as tf

import keras_bert
from keras_bert.data import trim_to_longest
from keras_bert.export import export_onnx, export_saved_model
from keras_bert.export.onnx_export import _check_standard_ops
from keras_bert.features import INPUT_NAMES
from keras_bert.models.lora import lora_layers
from keras_bert.text import BertPreprocessor
from real_data import read_sst2

SEQ_LENGTH = 64
NUM_SENTENCES = 200
# Distinct small sizes, so a swapped axis shows.
TINY = dict(vocab_size=23, hidden_size=8, num_layers=2, num_attention_heads=2, intermediate_size=12,
            max_position_embeddings=16)


def _session(path):
    return onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])


def _run(session, feeds):
    """`session`'s outputs by name for numpy `feeds`, in batches of 64."""
    names = [output.name for output in session.get_outputs()]
    size = len(next(iter(feeds.values())))
    batches = [session.run(names, {k: v[i:i + 64] for k, v in feeds.items()}) for i in range(0, size, 64)]
    return {name: np.concatenate([batch[j] for batch in batches]) for j, name in enumerate(names)}


def _tiny_inputs(batch=3, seq=7, seed=0):
    """Random ids with real padding (row 0 has three pads, row 1 one) and both segments."""
    rng = np.random.default_rng(seed)
    ids = rng.integers(5, TINY["vocab_size"], (batch, seq)).astype(np.int32)
    mask = np.ones((batch, seq), np.int32)
    mask[0, -3:] = 0
    mask[1, -1:] = 0
    types = np.zeros((batch, seq), np.int32)
    types[:, seq // 2:] = 1
    return {"input_word_ids": ids * mask, "input_mask": mask, "input_type_ids": types * mask}


def _randomized(model, seed=0):
    """`model` with every weight redrawn at a scale where a wrong op shows (the 0.02 init hides many)."""
    rng = np.random.default_rng(seed)
    model.set_weights([rng.normal(0, 0.5, w.shape).astype(w.dtype) for w in model.get_weights()])
    return model


def _tiny_encoder(**kwargs):
    return keras_bert.BertEncoder(**TINY, **kwargs)


@pytest.fixture(scope="module")
def sst2_feeds(minilm_path, shared_data):
    texts = read_sst2(shared_data, "dev")[:NUM_SENTENCES]
    preprocessor = BertPreprocessor(f"{minilm_path}/vocab.txt", SEQ_LENGTH)
    return texts, preprocessor, {name: value.numpy() for name, value in preprocessor(tf.constant(texts)).items()}


@pytest.fixture(scope="module")
def classifier_files(minilm_path, sst2_feeds, tmp_path_factory):
    """The real encoder under a seeded head, as a float32 SavedModel and as float32 and int8 ONNX files."""
    texts, preprocessor, _ = sst2_feeds
    model = keras_bert.BertClassifier(keras_bert.load_encoder(minilm_path), 2)
    head = model.get_layer("logits")
    head.kernel.assign(np.random.default_rng(0).normal(0, 0.5, head.kernel.shape).astype("float32"))
    directory = tmp_path_factory.mktemp("onnx")
    saved_model = export_saved_model(model, preprocessor, directory / "saved_model", label_names=["neg", "pos"])
    serve = tf.saved_model.load(saved_model).signatures["serving_default"]
    saved_model_probabilities = serve(text=tf.constant(texts))["probabilities"].numpy()
    path = directory / "sst2.onnx"
    assert export_onnx(model, path, int8_path=directory / "sst2.int8.onnx") == str(path)
    return path, directory / "sst2.int8.onnx", saved_model_probabilities


@pytest.fixture(scope="module")
def float32_outputs(classifier_files, sst2_feeds):
    return _run(_session(classifier_files[0]), sst2_feeds[2])


def test_classifier_equals_the_saved_model_on_sst2(classifier_files, float32_outputs, sst2_feeds):
    path, _, expected = classifier_files
    assert expected.std() > 0.05  # the head separates sentences
    np.testing.assert_allclose(float32_outputs["probabilities"], expected, atol=1e-4)
    np.testing.assert_array_equal(float32_outputs["logits"].argmax(-1), expected.argmax(-1))
    # Any batch and sequence length: the batch cut to its longest sentence gives the same answers.
    trimmed = {k: v.numpy() for k, v in trim_to_longest({k: tf.constant(v) for k, v in sst2_feeds[2].items()}).items()}
    assert trimmed["input_word_ids"].shape[1] < SEQ_LENGTH
    session = _session(path)
    np.testing.assert_allclose(_run(session, trimmed)["probabilities"], expected, atol=1e-4)
    one = session.run(["probabilities"], {name: value[:1, :20] for name, value in trimmed.items()})[0]
    assert one.shape == (1, 2)


def test_graph_has_the_preprocessor_inputs_named_outputs_and_only_standard_ops(classifier_files):
    path, _, _ = classifier_files
    session = _session(path)
    assert [(i.name, i.type, i.shape) for i in session.get_inputs()] == [
        (name, "tensor(int32)", ["batch", "seq_length"]) for name in INPUT_NAMES]
    assert [(o.name, o.type, o.shape) for o in session.get_outputs()] == [
        ("logits", "tensor(float)", ["batch", 2]), ("probabilities", "tensor(float)", ["batch", 2])]
    model = onnx.load(str(path))
    assert {opset.domain: opset.version for opset in model.opset_import}[""] == 17
    op_types = {node.op_type for node in model.graph.node}
    assert "Erf" in op_types and "Erfc" not in op_types  # exact GELU, through x * (1 + Erf(x / sqrt 2)) / 2
    assert {node.domain for node in model.graph.node} <= {"", "ai.onnx"}


def test_layer_norms_and_gelus_are_in_the_forms_onnx_runtime_fuses(classifier_files, tmp_path):
    path, _, _ = classifier_files
    op_types = [node.op_type for node in onnx.load(str(path)).graph.node]
    # MiniLM: the embeddings' layer norm and two per block, each one standard node, none left in pieces.
    assert op_types.count("LayerNormalization") == 13
    # (A layer norm in pieces has a Sqrt and a Reciprocal; a Neg remains, in the length groups' argsort.)
    assert not {"Reciprocal", "Sqrt", "GlobalAveragePool"} & set(op_types)
    # ONNX Runtime's load-time fusions then turn each block's GELU into one node.
    options = onnxruntime.SessionOptions()
    options.optimized_model_filepath = str(tmp_path / "optimized.onnx")
    onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    optimized = [node.op_type for node in onnx.load(options.optimized_model_filepath).graph.node]
    assert optimized.count("Gelu") + optimized.count("BiasGelu") == 6 and "Erf" not in optimized


def test_opsets_before_17_keep_the_layer_norm_in_pieces(tmp_path):
    model = keras_bert.BertClassifier(_randomized(_tiny_encoder()), 3)
    path = export_onnx(model, tmp_path / "opset16.onnx", opset=16)
    op_types = [node.op_type for node in onnx.load(path).graph.node]
    assert "LayerNormalization" not in op_types and op_types.count("Sqrt") == 5  # 2 blocks x 2 + embeddings
    feeds = _tiny_inputs()
    expected = model({k: tf.constant(v) for k, v in feeds.items()}, training=False).numpy()
    np.testing.assert_allclose(_session(path).run(["logits"], feeds)[0], expected, atol=1e-5)


def test_int8_file_is_quantized_and_agrees_with_float32(classifier_files, float32_outputs, sst2_feeds):
    path, int8_path, _ = classifier_files
    float32 = float32_outputs["probabilities"]
    int8 = _run(_session(int8_path), sst2_feeds[2])["probabilities"]
    # 6 blocks x 6 projections, the pooler and the head; the attention products stay float32.
    assert [node.op_type for node in onnx.load(str(int8_path)).graph.node].count("MatMulInteger") == 38
    assert int8_path.stat().st_size < 0.7 * path.stat().st_size  # the word embeddings stay float32
    assert (int8.argmax(-1) == float32.argmax(-1)).mean() >= 0.9  # 0.95 on the whole dev set
    difference = np.abs(int8 - float32)
    assert 1e-4 < difference.max() < 0.2 and difference.mean() < 0.04, (difference.max(), difference.mean())


def test_token_classifier_and_span_labeler_equal_the_model(tmp_path):
    inputs = _tiny_inputs()
    tagger = _randomized(keras_bert.BertTokenClassifier(_tiny_encoder(), num_classes=5))
    session = _session(export_onnx(tagger, tmp_path / "tagger.onnx"))
    assert [(o.name, o.shape) for o in session.get_outputs()] == [("logits", ["batch", "seq_length", 5])]
    # At the real tokens: the export skips padding rows (`skip_padding`), whose outputs mean nothing.
    real = inputs["input_mask"] == 1
    np.testing.assert_allclose(session.run(["logits"], inputs)[0][real], np.asarray(tagger(inputs))[real], atol=1e-5)

    spans = _randomized(keras_bert.BertSpanLabeler(_tiny_encoder()))
    session = _session(export_onnx(spans, tmp_path / "spans.onnx"))
    expected = spans(inputs)
    for name in ("start_logits", "end_logits"):
        got = session.run([name], inputs)[0]
        assert got.shape == (3, 7)
        np.testing.assert_allclose(got[real], np.asarray(expected[name])[real], atol=1e-5)


def test_without_skip_padding_every_position_equals_the_model(tmp_path):
    inputs = _tiny_inputs()
    tagger = _randomized(keras_bert.BertTokenClassifier(_tiny_encoder(), num_classes=5))
    paths = {skip: export_onnx(tagger, tmp_path / f"tagger_{skip}.onnx", skip_padding=skip) for skip in (True, False)}
    np.testing.assert_allclose(_session(paths[False]).run(["logits"], inputs)[0], tagger(inputs), atol=1e-5)
    # The packing's index ops (a gather of the rows in and out of each block and around the attention) are gone.
    gathers = {skip: sum(n.op_type == "Gather" for n in onnx.load(path).graph.node) for skip, path in paths.items()}
    assert gathers[True] - gathers[False] >= 6 * TINY["num_layers"], gathers


def test_embedder_and_regression_equal_the_model(tmp_path):
    inputs = _tiny_inputs()
    embedder = _randomized(keras_bert.BertTextEmbedder(_tiny_encoder()))
    session = _session(export_onnx(embedder, tmp_path / "embedder.onnx"))
    embedding = session.run(["embedding"], inputs)[0]
    np.testing.assert_allclose(embedding, embedder(inputs), atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(embedding, axis=-1), 1.0, atol=1e-5)

    regression = _randomized(keras_bert.BertClassifier(_tiny_encoder(), num_classes=1))
    session = _session(export_onnx(regression, tmp_path / "regression.onnx"))
    assert [o.name for o in session.get_outputs()] == ["logits"]
    np.testing.assert_allclose(session.run(["logits"], inputs)[0], regression(inputs), atol=1e-5)


def test_lora_and_bfloat16_models_export_merged_in_float32(tmp_path):
    inputs = _tiny_inputs()
    model = _randomized(keras_bert.BertClassifier(_tiny_encoder(), num_classes=3))
    plain = np.asarray(model(inputs))
    model.enable_lora(rank=2)
    rng = np.random.default_rng(1)
    for layer in lora_layers(model):
        layer.lora_kernel_b.assign(rng.normal(0, 0.5, layer.lora_kernel_b.shape))
    adapted = np.asarray(model(inputs))
    assert np.abs(adapted - plain).max() > 0.01
    session = _session(export_onnx(model, tmp_path / "lora.onnx"))
    np.testing.assert_allclose(session.run(["logits"], inputs)[0], adapted, atol=1e-5)

    bfloat16 = keras_bert.BertClassifier(_tiny_encoder(dtype="mixed_bfloat16"), num_classes=3)
    bfloat16.set_weights(model.with_encoder_settings().get_weights())
    session = _session(export_onnx(bfloat16, tmp_path / "bfloat16.onnx"))
    np.testing.assert_allclose(session.run(["logits"], inputs)[0], adapted, atol=1e-5)  # float32, not bfloat16


def test_errors_name_the_problem(tmp_path, monkeypatch):
    classifier = keras_bert.BertClassifier(_tiny_encoder(), num_classes=2)
    tagger = keras_bert.models.BertFeatureTagger(_tiny_encoder(), num_classes=3, num_feature_layers=1, lstm_units=4)
    with pytest.raises(TypeError, match="got BertFeatureTagger. Its LSTM"):
        export_onnx(tagger, tmp_path / "tagger.onnx")
    with pytest.raises(TypeError, match="export_onnx takes a BertClassifier.*; got BertEncoder"):
        export_onnx(_tiny_encoder(), tmp_path / "encoder.onnx")
    (tmp_path / "taken.onnx").write_bytes(b"")
    for path, int8_path in ((tmp_path / "taken.onnx", None), (tmp_path / "new.onnx", tmp_path / "taken.onnx")):
        with pytest.raises(FileExistsError, match="taken.onnx exists"):
            export_onnx(classifier, path, int8_path=int8_path)
    with pytest.raises(ValueError, match="opset=12; use 13 to 18"):
        export_onnx(classifier, tmp_path / "old.onnx", opset=12)
    with pytest.raises(ValueError, match="a file name of its own"):
        export_onnx(classifier, tmp_path / "same.onnx", int8_path=tmp_path / "same.onnx")
    quantized = keras_bert.BertClassifier(_tiny_encoder(), num_classes=2)
    quantized.encoder.quantize("int8")
    with pytest.raises(ValueError, match=r"encoder is quantized \(int8\).*int8_path="):
        export_onnx(quantized, tmp_path / "quantized.onnx")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken.onnx"]
    monkeypatch.setitem(sys.modules, "tf2onnx", None)  # as if it were not installed
    with pytest.raises(ImportError, match=r'pip install "keras_bert\[onnx\]"'):
        export_onnx(classifier, tmp_path / "model.onnx")


def test_an_op_left_unconverted_is_an_error():
    # tf2onnx logs a TensorFlow op it cannot convert and leaves it in the graph.
    x = onnx.helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [2])
    nodes = [onnx.helper.make_node("Erfc", ["x"], ["y"]), onnx.helper.make_node("Erf", ["y"], ["z"])]
    graph = onnx.helper.make_graph(nodes, "g", [x], [onnx.helper.make_tensor_value_info("z", onnx.TensorProto.FLOAT, [2])])
    with pytest.raises(ValueError, match=r"without an ONNX form: \['Erfc'\]"):
        _check_standard_ops(onnx, onnx.helper.make_model(graph))
