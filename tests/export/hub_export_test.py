"""The Hub-style preprocessor/encoder pair works without keras_bert, as the library computes."""

import json
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_bert
from keras_bert.export import export_hub_encoder, export_hub_preprocessor
from keras_bert.text import BertPreprocessor

QUESTIONS = ["Where does John live?", "", "caf\xe9 " * 40]
ANSWERS = ["In Zurich, a city in Switzerland.", "nothing", "ok"]


@pytest.fixture(scope="module")
def pair(minilm_path, tmp_path_factory):
    directory = tmp_path_factory.mktemp("hub")
    encoder = keras_bert.load_encoder(minilm_path)
    preprocessor = BertPreprocessor(f"{minilm_path}/vocab.txt", seq_length=16)
    export_hub_preprocessor(preprocessor, directory / "preprocess")
    export_hub_encoder(encoder, directory / "encoder")
    return directory, encoder, f"{minilm_path}/vocab.txt"


def test_fresh_process_packs_pairs_and_encodes_as_the_library(pair):
    directory, encoder, vocab = pair
    script = (
        "import json, sys\n"
        "import tensorflow as tf, tensorflow_text\n"
        f"preprocessor = tf.saved_model.load({str(directory / 'preprocess')!r})\n"
        f"encoder = tf.saved_model.load({str(directory / 'encoder')!r})\n"
        f"segments = [preprocessor.tokenize(tf.constant(t)) for t in ({QUESTIONS!r}, {ANSWERS!r})]\n"
        "packed = preprocessor.bert_pack_inputs(segments, seq_length=24)\n"
        "outputs = encoder(packed)\n"
        "training = encoder(packed, training=True)\n"
        f"single = preprocessor(tf.constant({QUESTIONS!r}))\n"
        "signature = encoder.signatures['serving_default'](**packed)\n"
        "assert 'keras_bert' not in sys.modules\n"
        "print(json.dumps({'packed': {k: v.numpy().tolist() for k, v in packed.items()},\n"
        "    'single': single['input_word_ids'].numpy().tolist(),\n"
        "    'pooled': outputs['pooled_output'].numpy().tolist(),\n"
        "    'sequence': outputs['sequence_output'].numpy().tolist(),\n"
        "    'layers': len(outputs['encoder_outputs']),\n"
        "    'stacked': signature['encoder_outputs'].shape.as_list(),\n"
        "    'dropout_changes_it': bool(tf.reduce_any(training['pooled_output'] != outputs['pooled_output']))}))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    served = json.loads(result.stdout.strip().splitlines()[-1])

    expected = BertPreprocessor(vocab, seq_length=24)((tf.constant(QUESTIONS), tf.constant(ANSWERS)))
    for name, value in expected.items():
        assert served["packed"][name] == value.numpy().tolist(), name
    assert served["single"] == BertPreprocessor(vocab, 16)(tf.constant(QUESTIONS))["input_word_ids"].numpy().tolist()
    outputs = encoder(expected)
    np.testing.assert_allclose(served["pooled"], outputs["pooled_output"], atol=1e-5, rtol=1e-5)
    np.testing.assert_allclose(served["sequence"], outputs["sequence_output"], atol=1e-5, rtol=1e-5)  # eager vs fused graph kernels
    assert served["layers"] == 6 and served["stacked"] == [6, 3, 24, 384]
    assert served["dropout_changes_it"]


def test_keras_builds_a_classifier_on_the_exported_encoder(pair):
    directory, encoder, vocab = pair
    hub_encoder = keras.layers.TFSMLayer(directory / "encoder", call_endpoint="serve")
    inputs = {name: keras.Input(shape=(None,), dtype="int32", name=name)
              for name in ("input_word_ids", "input_mask", "input_type_ids")}
    pooled = hub_encoder(inputs)["pooled_output"]
    model = keras.Model(inputs, keras.layers.Dense(2, name="head")(pooled))
    packed = BertPreprocessor(vocab, 16)(tf.constant(QUESTIONS))
    head = model.get_layer("head")
    expected = encoder(packed)["pooled_output"].numpy() @ head.kernel.numpy() + head.bias.numpy()
    np.testing.assert_allclose(model(packed), expected, atol=1e-5)


def test_refuses_to_overwrite(pair):
    directory, encoder, _ = pair
    with pytest.raises(FileExistsError, match="already holds a SavedModel"):
        export_hub_encoder(encoder, directory / "encoder")
