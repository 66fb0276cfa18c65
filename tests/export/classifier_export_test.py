import json
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

import keras_bert
from keras_bert.export import export_classifier
from keras_bert.text import BertPreprocessor

TEXTS = ["a gorgeous, witty film", "", "dull " * 400, "caf\xe9 ok"]


@pytest.fixture(scope="module")
def exported(minilm_path, tmp_path_factory):
    encoder = keras_bert.load_encoder(minilm_path)
    classifier = keras_bert.BertClassifier(encoder, num_classes=2)
    preprocessor = BertPreprocessor(f"{minilm_path}/vocab.txt", seq_length=32)
    directory = tmp_path_factory.mktemp("export") / "sst2"
    export_classifier(classifier, preprocessor, directory, ["negative", "positive"])
    expected = tf.nn.softmax(classifier(preprocessor(tf.constant(TEXTS)))).numpy()
    return directory, expected


def test_fresh_process_without_keras_bert_gives_the_same_probabilities(exported):
    directory, expected = exported
    script = (
        "import json, sys\n"
        "import tensorflow as tf, tensorflow_text\n"
        f"serve = tf.saved_model.load({str(directory)!r}).signatures['serving_default']\n"
        f"out = serve(text=tf.constant({TEXTS!r} + [b'bad \\xff\\xfe bytes']))\n"
        "empty = serve(text=tf.constant([], tf.string))\n"
        "assert 'keras_bert' not in sys.modules\n"
        "print(json.dumps({'p': out['probabilities'].numpy().tolist(),\n"
        "                  'label': [l.decode() for l in out['label'].numpy()],\n"
        "                  'empty': list(empty['probabilities'].shape)}))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    served = json.loads(result.stdout.strip().splitlines()[-1])
    np.testing.assert_allclose(np.array(served["p"])[: len(TEXTS)], expected, atol=1e-6)
    assert served["label"][: len(TEXTS)] == [["negative", "positive"][i] for i in expected.argmax(-1)]
    assert len(served["p"]) == len(TEXTS) + 1 and served["empty"] == [0, 2]


def test_saved_model_cli_lists_the_string_signature(exported):
    directory, _ = exported
    cli = [sys.executable, "-m", "tensorflow.python.tools.saved_model_cli"]
    result = subprocess.run(cli + ["show", "--dir", str(directory), "--all"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "signature_def['serving_default']" in result.stdout
    assert "dtype: DT_STRING" in result.stdout and "outputs['label']" in result.stdout


def test_refuses_to_overwrite_and_checks_labels(exported, minilm_path, tmp_path):
    directory, _ = exported
    classifier = keras_bert.BertClassifier(keras_bert.load_encoder(minilm_path), num_classes=3)
    preprocessor = BertPreprocessor(f"{minilm_path}/vocab.txt", seq_length=8)
    with pytest.raises(FileExistsError, match="already holds a SavedModel"):
        export_classifier(classifier, preprocessor, directory, ["a", "b", "c"])
    with pytest.raises(ValueError, match="2 label names for a classifier with 3 outputs"):
        export_classifier(classifier, preprocessor, tmp_path / "x", ["a", "b"])
