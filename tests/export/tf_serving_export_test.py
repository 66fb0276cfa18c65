"""`tokenizer_ops="tf_serving"` exports need only ops every stock TF Serving since 2.2 links, and answer alike."""

import contextlib
import io
import json
import re
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

from conftest import REPO_ROOT

import keras_bert
from keras_bert import BertEncoder
from keras_bert.export import (
    TF_SERVING_TEXT_OPS,
    custom_ops,
    export_hub_encoder,
    export_hub_preprocessor,
    export_saved_model,
    export_tflite,
    oldest_tf_serving,
)
from keras_bert.text import BertPreprocessor
from real_data import read_sst2

SEQ_LENGTH = 32
TAGS = ["O", "B-PER", "I-PER"]
TEXTS = ["Crème brûlée in İstanbul, ΟΔΟΣ…", "«guillemets» ¿qué? 中文字符测试，日本語", "emoji 😀 a\x00b\u200b\u3000c", "",
         "dull " * 400]
BAD_BYTES = b"bad \xff\xfe bytes"
# tensorflow-text ops every stock TF Serving release since 2.2.0 links: tensorflow/serving's
# model_servers/BUILD links @org_tensorflow_text//tensorflow_text:ops_lib, at the version its
# workspace.bzl pins (keras_bert/export/tf_serving_ops.py cites the files and tags read).
SINCE_2_2 = {op for op, release in TF_SERVING_TEXT_OPS.items() if release in ("2.0.0", "2.2.0")}
SERVING_OPS = ["NormalizeUTF8", "RegexSplitWithOffsets", "WordpieceTokenizeWithOffsets"]


def _tiny_encoder():
    # A wide initializer, so that any changed piece moves the outputs well past float noise.
    return BertEncoder(vocab_size=30522, hidden_size=16, num_layers=1, num_attention_heads=2, intermediate_size=24,
                       initializer_range=0.5)


@pytest.fixture(scope="module")
def vocab(minilm_path):
    return f"{minilm_path}/vocab.txt"


@pytest.fixture(scope="module")
def exports(vocab, tmp_path_factory):
    """Each task model exported in both forms, from the same weights: name -> (fast, tf_serving) directories."""
    keras.utils.set_random_seed(7)
    models = {
        "classify": (keras_bert.BertClassifier(_tiny_encoder(), 2), {"label_names": ["negative", "positive"]}),
        "tag": (keras_bert.BertTokenClassifier(_tiny_encoder(), len(TAGS)), {"label_names": TAGS}),
        "span": (keras_bert.BertSpanLabeler(_tiny_encoder()), {"max_query_length": 8, "doc_stride": 8}),
        "embed": (keras_bert.BertTextEmbedder(_tiny_encoder()), {}),
    }
    preprocessor = BertPreprocessor(vocab, seq_length=SEQ_LENGTH)
    root = tmp_path_factory.mktemp("exports")
    for name, (model, options) in models.items():
        for ops in ("fast", "tf_serving"):
            export_saved_model(model, preprocessor, root / name / ops, tokenizer_ops=ops, **options)
    assert preprocessor.ops == "fast"  # the preprocessor given is left as it was
    return {name: (root / name / "fast", root / name / "tf_serving") for name in models}


def _serve_like_tf_serving(directories, texts):
    """Loads each SavedModel as TF Serving does (TF1 graph-mode loader: restore, then the init op), in a
    process that imports tensorflow alone first: the ops it does not register are the custom ones."""
    script = (
        "import json, sys\n"
        "import tensorflow as tf\n"
        "from tensorflow.core.protobuf import saved_model_pb2  # private: saved_model.pb unexecuted\n"
        "from tensorflow.python.framework import op_def_registry  # private: what this process registers\n"
        f"directories, texts = {[str(d) for d in directories]!r}, {texts!r}\n"
        "unregistered = []\n"
        "for directory in directories:\n"
        "    saved_model = saved_model_pb2.SavedModel.FromString(open(directory + '/saved_model.pb', 'rb').read())\n"
        "    graphs = [meta_graph.graph_def for meta_graph in saved_model.meta_graphs]\n"
        "    nodes = [n for g in graphs for n in [*g.node, *[n for f in g.library.function for n in f.node_def]]]\n"
        "    unregistered.append(sorted({n.op for n in nodes if op_def_registry.get(n.op) is None}))\n"
        "import tensorflow_text\n"
        "tf.compat.v1.disable_eager_execution()\n"
        "served = []\n"
        "for directory in directories:\n"
        "    with tf.compat.v1.Session(graph=tf.Graph()) as session:\n"
        "        meta_graph = tf.compat.v1.saved_model.loader.load(session, ['serve'], directory)\n"
        "        signature = meta_graph.signature_def['serving_default']\n"
        "        out = session.run({k: v.name for k, v in signature.outputs.items()},\n"
        "                          {signature.inputs['text'].name: texts})\n"
        "        served.append({'p': out['probabilities'].tolist(), 'label': out['label'].tolist()})\n"
        "assert 'keras_bert' not in sys.modules\n"
        "print(json.dumps({'unregistered': unregistered, 'served': served}, default=lambda b: b.decode()))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_tf_serving_form_serves_the_default_forms_predictions(exports, shared_data):
    texts = read_sst2(shared_data, "dev") + TEXTS + [BAD_BYTES]
    result = _serve_like_tf_serving(exports["classify"], texts)
    fast, serving = result["served"]
    np.testing.assert_allclose(serving["p"], fast["p"], atol=1e-6)
    assert serving["label"] == fast["label"] and len(set(serving["label"])) == 2
    # What TensorFlow alone does not register is exactly what custom_ops lists.
    assert result["unregistered"] == [custom_ops(d) for d in exports["classify"]]
    assert result["unregistered"][1] == SERVING_OPS


def test_every_task_exports_with_only_ops_stock_tf_serving_links(exports, vocab, tmp_path):
    export_hub_preprocessor(BertPreprocessor(vocab, seq_length=SEQ_LENGTH, ops="tf_serving"), tmp_path / "preprocess")
    for directory in [serving for _, serving in exports.values()] + [tmp_path / "preprocess"]:
        ops = custom_ops(directory)
        assert ops == SERVING_OPS and set(ops) <= SINCE_2_2, directory
        assert oldest_tf_serving(ops) == "2.2.0"
    fast = exports["classify"][0]
    # The default form needs the fast WordPiece kernel, which TF Serving links only from 2.10.
    assert not set(custom_ops(fast)) <= SINCE_2_2 and oldest_tf_serving(custom_ops(fast)) == "2.10.0"
    with pytest.raises(ValueError, match=r"No stock TensorFlow Serving release links \['MyOp'\]"):
        oldest_tf_serving(["NormalizeUTF8", "MyOp"])


def test_tagger_span_labeler_and_embedder_answer_as_in_the_default_form(exports, shared_data):
    texts = tf.constant(read_sst2(shared_data, "dev")[:200] + TEXTS + [BAD_BYTES])
    for name in ("tag", "span", "embed"):
        served = []
        for directory in exports[name]:
            serve = tf.saved_model.load(str(directory)).signatures["serving_default"]
            out = serve(question=texts[::-1], context=texts) if name == "span" else serve(text=texts)
            served.append({key: value.numpy() for key, value in out.items()})
        fast, serving = served
        assert sorted(fast) == sorted(serving)
        for key in fast:
            if fast[key].dtype.kind == "f":
                np.testing.assert_allclose(serving[key], fast[key], atol=1e-6, err_msg=f"{name} {key}")
            else:
                np.testing.assert_array_equal(serving[key], fast[key], err_msg=f"{name} {key}")
        # Offsets are in play: words and answers start past the first character.
        assert name == "embed" or fast.get("word_start", fast.get("answer_start")).max() > 0


def _tflite_custom_ops(path):
    report = io.StringIO()
    with contextlib.redirect_stdout(report):
        tf.lite.experimental.Analyzer.analyze(model_path=str(path))
    # TFLite's own (builtin) ops are upper case: FULLY_CONNECTED, GATHER...
    ops = re.findall(r"Op#\d+ (\S+?)\(", report.getvalue())
    return sorted({op for op in ops if not re.fullmatch(r"[A-Z0-9_]+", op)})


def _documented_custom_ops():
    """The export guide's table: first cell -> (ops, stock TF Serving)."""
    text = (REPO_ROOT / "docs/guides/export.md").read_text(encoding="utf-8")
    table = text.split("### Custom ops by export form", 1)[1].split("\n\n| export |", 1)[1].split("\n\n", 1)[0]
    rows = [[cell.strip() for cell in line.strip("|").split("|")] for line in table.splitlines()[2:]]
    return {row[0]: (re.findall(r"`([^`]+)`", row[1]), row[2]) for row in rows}


def test_the_export_guide_lists_each_forms_custom_ops(exports, vocab, tmp_path):
    fast, serving = exports["classify"]
    preprocessor = BertPreprocessor(vocab, seq_length=SEQ_LENGTH)
    export_hub_preprocessor(preprocessor, tmp_path / "preprocess")
    export_hub_encoder(_tiny_encoder(), tmp_path / "encoder")
    tflite = export_tflite(keras_bert.BertClassifier(_tiny_encoder(), 2), preprocessor, tmp_path / "m.tflite",
                           label_names=["a", "b"])

    def stock(ops):
        return oldest_tf_serving(ops).removesuffix(".0") + " and later"

    derived = {
        "SavedModel (`export_saved_model`)": (custom_ops(fast), stock(custom_ops(fast))),
        'SavedModel, `tokenizer_ops="tf_serving"`': (custom_ops(serving), stock(custom_ops(serving))),
        "Hub-style `preprocess/`": (custom_ops(tmp_path / "preprocess"), stock(custom_ops(tmp_path / "preprocess"))),
        "Hub-style `encoder/`": (custom_ops(tmp_path / "encoder"), "TF2 loaders only (variables)"),
        "TFLite (`export_tflite`)": (_tflite_custom_ops(tflite), "not a SavedModel"),
    }
    assert derived["Hub-style `encoder/`"][0] == [] and "FastBertNormalize" in derived["TFLite (`export_tflite`)"][0]
    documented = _documented_custom_ops()
    documented["Hub-style `encoder/`"] = ([], documented["Hub-style `encoder/`"][1])  # "none"
    assert documented == derived
