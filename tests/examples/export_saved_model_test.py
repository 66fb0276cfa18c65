"""examples/export_saved_model.py --tokenizer_ops: the op set the exported tokenizer runs on."""

import json
import shutil
import subprocess
import sys

from conftest import REPO_ROOT

import keras_bert
from keras_bert import BertEncoder
from keras_bert.export import custom_ops


def test_tf_serving_tokenizer_ops_reach_the_saved_model_and_the_hub_preprocessor(tmp_path, minilm_path):
    model_dir = tmp_path / "model"
    model_dir.mkdir()
    encoder = BertEncoder(vocab_size=30522, hidden_size=8, num_layers=1, num_attention_heads=2, intermediate_size=12)
    keras_bert.BertClassifier(encoder, num_classes=2).save(model_dir / "classifier.keras")
    shutil.copyfile(f"{minilm_path}/vocab.txt", model_dir / "vocab.txt")
    # What a fine-tuning script leaves beside its model (common_flags.save_serving_settings).
    (model_dir / "serving.json").write_text(json.dumps({
        "model_file": "classifier.keras", "task": "sst2", "lower_case": True, "max_seq_length": 16,
        "label_names": ["negative", "positive"],
    }))
    result = subprocess.run([sys.executable, "examples/export_saved_model.py", f"--model_dir={model_dir}",
                             f"--export_dir={tmp_path}/export", f"--hub_export_dir={tmp_path}/hub",
                             "--tokenizer_ops=tf_serving"],
                            cwd=REPO_ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "probabilities, label_id, label (negative, positive)" in result.stdout
    expected = ["NormalizeUTF8", "RegexSplitWithOffsets", "WordpieceTokenizeWithOffsets"]  # the default: FastWordpiece
    assert custom_ops(tmp_path / "export") == expected == custom_ops(tmp_path / "hub/preprocess")
