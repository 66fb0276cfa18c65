"""Exported SavedModels serve raw text in a process without keras_bert, as the library predicts."""

import json
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from conftest import REPO_ROOT

import keras_bert
from keras_bert.data import ConllSentences, SquadExample, squad_answers, squad_features
from keras_bert.data import token_classification_dataset, token_classification_features, word_predictions
from keras_bert.export import export_saved_model
from keras_bert.export.servers import SpanServer
from keras_bert.text import BertPreprocessor
from keras_bert.training import predict_logits

TEXTS = ["a gorgeous, witty film", "", "dull " * 400, "caf\xe9 ok"]
BAD_BYTES = b"bad \xff\xfe bytes"
TAGS = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]
SENTENCES = [["John", "Smith", "lives", "in", "Z\xfcrich", "."], ["Wolfgang", "Amadeus", "Mozart"], ["ok"]]
QUESTIONS = [
    SquadExample("q1", "Where does John live?", "John Smith lives in Zurich, a city in Switzerland.", []),
    SquadExample("q2", "Who wrote it?", "The opera was written by Wolfgang Amadeus Mozart in 1786.", []),
    SquadExample("q3", "When?", "Caf\xe9 society peaked in the 1920s and again later.", []),
]
SEQ_LENGTH = 32


def _serve_in_fresh_process(directory, calls):
    """Runs `calls` (Python source using `serve`) with only tensorflow and tensorflow_text imported."""
    script = (
        "import json, sys\n"
        "import tensorflow as tf, tensorflow_text\n"
        f"serve = tf.saved_model.load({str(directory)!r}).signatures['serving_default']\n"
        "def plain(out):\n"
        "    return {k: v.numpy().tolist() for k, v in out.items()}\n"
        f"{calls}\n"
        "assert 'keras_bert' not in sys.modules\n"
        "print(json.dumps(result, default=lambda b: b.decode()))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def encoder_and_vocab(minilm_path):
    return keras_bert.load_encoder(minilm_path), f"{minilm_path}/vocab.txt"


@pytest.fixture(scope="module")
def classifier_export(encoder_and_vocab, tmp_path_factory):
    encoder, vocab = encoder_and_vocab
    classifier = keras_bert.BertClassifier(encoder, num_classes=2)
    preprocessor = BertPreprocessor(vocab, seq_length=SEQ_LENGTH)
    directory = tmp_path_factory.mktemp("export") / "sst2"
    export_saved_model(classifier, preprocessor, directory, label_names=["negative", "positive"])
    expected = tf.nn.softmax(classifier(preprocessor(tf.constant(TEXTS)))).numpy()
    return directory, expected


def test_classifier_serves_the_same_probabilities(classifier_export):
    directory, expected = classifier_export
    served = _serve_in_fresh_process(directory, (
        f"out = plain(serve(text=tf.constant({TEXTS!r} + [{BAD_BYTES!r}])))\n"
        "empty = serve(text=tf.constant([], tf.string))\n"
        "result = {'p': out['probabilities'], 'label': out['label'], 'empty': list(empty['probabilities'].shape)}"
    ))
    np.testing.assert_allclose(np.array(served["p"])[: len(TEXTS)], expected, atol=1e-6)
    assert served["label"][: len(TEXTS)] == [["negative", "positive"][i] for i in expected.argmax(-1)]
    assert len(served["p"]) == len(TEXTS) + 1 and served["empty"] == [0, 2]
    label_names = tf.saved_model.load(str(directory)).signatures["label_names"]()["label_names"]
    assert label_names.numpy().tolist() == [b"negative", b"positive"]


def test_mean_pooled_classifier_serves_the_same_probabilities(encoder_and_vocab, tmp_path):
    # The head the small-budget recipe fine-tunes with (--pooling=mean): no pooler in the served graph.
    encoder, vocab = encoder_and_vocab
    classifier = keras_bert.BertClassifier(encoder, num_classes=2, pooling="mean")
    preprocessor = BertPreprocessor(vocab, seq_length=SEQ_LENGTH)
    export_saved_model(classifier, preprocessor, tmp_path / "mean", label_names=["negative", "positive"])
    served = tf.saved_model.load(str(tmp_path / "mean")).signatures["serving_default"](text=tf.constant(TEXTS))
    expected = tf.nn.softmax(classifier(preprocessor(tf.constant(TEXTS)))).numpy()
    np.testing.assert_allclose(served["probabilities"].numpy(), expected, atol=1e-6)


def _graph_nodes(directory):
    """Every node of the SavedModel's serving graph and of the functions it calls."""
    graph = tf.saved_model.load(str(directory)).signatures["serving_default"].graph.as_graph_def()
    return [node for function in graph.library.function for node in function.node_def] + list(graph.node)


def _bfloat16_ops(directory):
    """How many ops of the SavedModel's serving graph compute in bfloat16."""
    return sum(node.attr["T"].type == tf.bfloat16.as_datatype_enum for node in _graph_nodes(directory))


def _export_and_serve(encoder_and_vocab, directory, precision):
    """A fresh float32 classifier exported at `precision`: `(classifier, preprocessor, largest difference)`
    between its probabilities and the SavedModel's, served in a process without keras_bert."""
    encoder, vocab = encoder_and_vocab
    classifier = keras_bert.BertClassifier(encoder, num_classes=2)
    preprocessor = BertPreprocessor(vocab, seq_length=SEQ_LENGTH)
    expected = tf.nn.softmax(classifier(preprocessor(tf.constant(TEXTS)))).numpy()
    export_saved_model(classifier, preprocessor, directory, label_names=["no", "yes"], precision=precision)
    served = _serve_in_fresh_process(directory, (
        f"out = plain(serve(text=tf.constant({TEXTS!r})))\n"
        "result = {'p': out['probabilities']}"
    ))
    return classifier, preprocessor, np.abs(np.array(served["p"]) - expected).max()


def test_classifier_exports_in_bfloat16_from_a_float32_model(encoder_and_vocab, classifier_export, tmp_path):
    float32_directory, _ = classifier_export
    classifier, preprocessor, difference = _export_and_serve(encoder_and_vocab, tmp_path / "bf16", "bfloat16")
    # The model itself is left computing in float32.
    assert {layer.compute_dtype for layer in classifier._flatten_layers(include_self=True)} == {"float32"}
    assert 1e-6 < difference < 0.02, difference  # a bfloat16 rendering of the float32 model
    assert _bfloat16_ops(tmp_path / "bf16") > 50 and _bfloat16_ops(float32_directory) == 0
    with pytest.raises(ValueError, match="precision='int4'; use float32, bfloat16 or float16"):
        export_saved_model(classifier, preprocessor, tmp_path / "int4", precision="int4")
    assert not (tmp_path / "int4").exists()


@pytest.mark.skipif(not keras_bert.layers.cpu_kernels.onednn_cpu(), reason="int8 kernels are oneDNN's")
def test_classifier_exports_in_int8_from_a_float32_model(encoder_and_vocab, classifier_export, tmp_path):
    float32_directory, _ = classifier_export
    classifier, _, difference = _export_and_serve(encoder_and_vocab, tmp_path / "int8", "int8")
    assert classifier.encoder.quantization is None  # the model itself is left as it was
    assert 1e-6 < difference < 0.02, difference
    # 6 blocks x 6 projections, each one oneDNN int8 kernel reading an int8 constant it may keep reordered.
    nodes = _graph_nodes(tmp_path / "int8")
    matmuls = [node for node in nodes if node.op == "_QuantizedMatMul"]
    assert len(matmuls) == 36 and all(node.attr["is_weight_const"].b for node in matmuls)
    int8_constants = sum(node.attr["dtype"].type == tf.int8.as_datatype_enum for node in nodes if node.op == "Const")
    assert int8_constants == 36
    # The projections' weights (10.6M of all-MiniLM-L6-v2's 22.7M) shrink to a quarter.
    size = (tmp_path / "int8/saved_model.pb").stat().st_size
    assert size < 0.7 * (float32_directory / "saved_model.pb").stat().st_size


def test_tagger_serves_word_tags_with_character_spans(encoder_and_vocab, tmp_path):
    encoder, vocab = encoder_and_vocab
    tagger = keras_bert.BertTokenClassifier(encoder, num_classes=len(TAGS))
    export_saved_model(tagger, BertPreprocessor(vocab, SEQ_LENGTH), tmp_path / "ner", label_names=TAGS)
    texts = [" ".join(words) for words in SENTENCES]
    served = _serve_in_fresh_process(tmp_path / "ner", (
        f"result = plain(serve(text=tf.constant({texts!r} + ['', {BAD_BYTES!r}, 'long ' * 100])))"
    ))
    # The library's own CoNLL path: label at each word's first piece.
    sentences = ConllSentences(SENTENCES, [["O"] * len(w) for w in SENTENCES], "inline")
    features = token_classification_features(sentences, keras_bert.text.BertTokenizer(vocab), TAGS, SEQ_LENGTH)
    logits = predict_logits(tagger, token_classification_dataset(features, 8))
    expected = word_predictions(features, logits, sentences)
    for row, (words, text) in enumerate(zip(SENTENCES, texts)):
        n = served["num_words"][row]
        assert served["word"][row][:n] == words
        assert served["tag"][row][:n] == [TAGS[i] for i in expected[row]]
        assert [text[s:e] for s, e in zip(served["word_start"][row][:n], served["word_end"][row][:n])] == words
    assert served["num_words"][3:] == [0, 2, SEQ_LENGTH - 2]  # empty; bad bytes dropped; truncated
    assert served["word"][4][:2] == ["bad", "bytes"] and served["tag"][3][0] == ""


def test_span_labeler_serves_the_library_answer(encoder_and_vocab, tmp_path):
    encoder, vocab = encoder_and_vocab
    model = keras_bert.BertSpanLabeler(encoder)
    export_saved_model(model, BertPreprocessor(vocab, SEQ_LENGTH), tmp_path / "squad", max_query_length=8,
                       max_answer_length=5)
    served = _serve_in_fresh_process(tmp_path / "squad", (
        f"result = plain(serve(question=tf.constant({[q.question for q in QUESTIONS]!r} + ['q', '']),\n"
        f"                     context=tf.constant({[q.context for q in QUESTIONS]!r} + ['', {BAD_BYTES!r}])))"
    ))
    # The library's SQuAD path on one window each, searching every start and end.
    tokenizer = keras_bert.text.BertTokenizer(vocab)
    features = squad_features(QUESTIONS, tokenizer, seq_length=SEQ_LENGTH, max_query_length=8)
    assert len(features["example_index"]) == len(QUESTIONS)  # every context fits one window
    logits = model({k: features[k] for k in ("input_word_ids", "input_mask", "input_type_ids")})
    expected = squad_answers(QUESTIONS, features, np.asarray(logits["start_logits"]),
                             np.asarray(logits["end_logits"]), n_best_size=SEQ_LENGTH, max_answer_length=5)
    assert served["answer"][:3] == [expected[q.question_id] for q in QUESTIONS]
    for row, q in enumerate(QUESTIONS):
        assert q.context[served["answer_start"][row] : served["answer_end"][row]] == served["answer"][row]
    assert served["answer"][3] == "" and served["answer_start"][3] == -1  # no context, no answer
    assert served["answer"][4] and served["answer"][4] in "bad \ufffd\ufffd bytes"  # invalid bytes -> U+FFFD


def test_span_labeler_searches_long_contexts_in_windows_as_the_library(encoder_and_vocab, shared_data, tmp_path):
    """Real SQuAD contexts cut into many windows: the served answer is the library's over all windows."""
    encoder, vocab = encoder_and_vocab
    model = keras_bert.BertSpanLabeler(encoder)
    head = model.get_layer("span_logits")  # a spread head, so windows and positions compete
    head.kernel.assign(np.random.default_rng(1).normal(0, 0.3, head.kernel.shape).astype("float32"))
    seq_length, stride = 48, 12
    questions = keras_bert.data.read_squad(shared_data / "squad" / "dev.json")[::110][:12]
    features = squad_features(questions, keras_bert.text.BertTokenizer(vocab), seq_length=seq_length,
                              doc_stride=stride, max_query_length=16)
    assert len(features["example_index"]) > 10 * len(questions)  # many windows each
    logits = model.predict({k: features[k] for k in ("input_word_ids", "input_mask", "input_type_ids")}, verbose=0)

    def library_answers(threshold):
        return squad_answers(questions, features, np.asarray(logits["start_logits"]),
                             np.asarray(logits["end_logits"]), n_best_size=seq_length, max_answer_length=6,
                             null_score_threshold=threshold)

    # A v2.0 threshold under which some questions get the empty answer and some a span.
    threshold = next(t for t in np.arange(-10.0, 10.0, 0.25)
                     if 0 < sum(a == "" for a in library_answers(t).values()) < len(questions) // 2 + 1)
    expected = library_answers(threshold)
    export_saved_model(model, BertPreprocessor(vocab, seq_length), tmp_path / "squad", max_query_length=16,
                       max_answer_length=6, doc_stride=stride, null_score_threshold=float(threshold))
    served = _serve_in_fresh_process(tmp_path / "squad", (
        f"result = plain(serve(question=tf.constant({[q.question for q in questions]!r}),\n"
        f"                     context=tf.constant({[q.context for q in questions]!r})))"
    ))
    assert served["answer"] == [expected[q.question_id] for q in questions]
    assert "" in served["answer"]
    for row, q in enumerate(questions):
        if served["answer"][row]:
            assert q.context[served["answer_start"][row] : served["answer_end"][row]] == served["answer"][row]


@pytest.mark.parametrize("seq_length, doc_stride", [(40, 7), (40, 128)])
def test_span_server_answers_as_the_library_for_strides_shorter_and_longer_than_windows(
        encoder_and_vocab, shared_data, seq_length, doc_stride):
    """The span server in-process (no export, fast): with a stride past the window room, no text is skipped."""
    encoder, vocab = encoder_and_vocab
    model = keras_bert.BertSpanLabeler(encoder)
    head = model.get_layer("span_logits")  # a spread head, so windows and positions compete
    head.kernel.assign(np.random.default_rng(2).normal(0, 0.3, head.kernel.shape).astype("float32"))
    questions = keras_bert.data.read_squad(shared_data / "squad" / "dev.json")[5::150][:8]
    tokenizer = keras_bert.text.BertTokenizer(vocab)
    features = squad_features(questions, tokenizer, seq_length=seq_length, doc_stride=doc_stride,
                              max_query_length=12)
    assert len(features["example_index"]) > 4 * len(questions)
    logits = model.predict({k: features[k] for k in ("input_word_ids", "input_mask", "input_type_ids")}, verbose=0)
    expected = squad_answers(questions, features, logits["start_logits"], logits["end_logits"],
                             n_best_size=seq_length, max_answer_length=6)
    server = SpanServer(model, tokenizer, seq_length, max_query_length=12, max_answer_length=6, doc_stride=doc_stride)
    served = server.answer(tf.constant([q.question for q in questions]), tf.constant([q.context for q in questions]))
    assert [a.decode() for a in served["answer"].numpy()] == [expected[q.question_id] for q in questions]


def test_saved_model_cli_lists_the_string_signature_and_runs_it(classifier_export):
    directory, expected = classifier_export
    cli = [sys.executable, "examples/saved_model_cli.py"]
    result = subprocess.run(cli + ["show", "--dir", str(directory), "--all"], cwd=REPO_ROOT, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "signature_def['serving_default']" in result.stdout
    assert "dtype: DT_STRING" in result.stdout and "outputs['label']" in result.stdout
    # `run` loads through TensorFlow's graph-mode loader, as TF Serving does.
    result = subprocess.run(cli + ["run", "--dir", str(directory), "--tag_set", "serve", "--signature_def",
                                   "serving_default", "--input_exprs", f"text={TEXTS[:1]!r}"],
                            cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    label = ["negative", "positive"][int(expected[0].argmax())]
    assert f"Result for output key label:\n[b'{label}']" in result.stdout


def test_refuses_to_overwrite_and_checks_labels(classifier_export, encoder_and_vocab, tmp_path):
    directory, _ = classifier_export
    encoder, vocab = encoder_and_vocab
    classifier = keras_bert.BertClassifier(encoder, num_classes=3)
    preprocessor = BertPreprocessor(vocab, seq_length=8)
    with pytest.raises(FileExistsError, match="already holds a SavedModel"):
        export_saved_model(classifier, preprocessor, directory, label_names=["a", "b", "c"])
    with pytest.raises(ValueError, match="2 label names for a classifier with 3 outputs"):
        export_saved_model(classifier, preprocessor, tmp_path / "x", label_names=["a", "b"])
    with pytest.raises(ValueError, match="max_query_length=64 leaves no context room in seq_length=8"):
        export_saved_model(keras_bert.BertSpanLabeler(encoder), preprocessor, tmp_path / "y")
    with pytest.raises(TypeError, match="takes a BertClassifier, .* got BertEncoder"):
        export_saved_model(encoder, preprocessor, tmp_path / "z")
