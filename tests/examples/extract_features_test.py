import json
import subprocess
import sys

import numpy as np
import pytest

from conftest import REPO_ROOT

LINES = ["The cat sat on the mat.", "Stocks fell ||| Shares dropped sharply", "hello"]


def _run(tmp_path, *flags):
    source = tmp_path / "input.txt"
    source.write_text("\n".join(LINES) + "\n", encoding="utf-8")
    return subprocess.run(
        [sys.executable, "examples/extract_features.py", f"--input_file={source}", *flags],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=600,
    )


def test_jsonl_features_equal_transformers_hidden_states(tmp_path, minilm_path):
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    out = tmp_path / "features.jsonl"
    result = _run(tmp_path, f"--output_file={out}", "--layers=-1,-2", "--max_seq_length=32")
    assert result.returncode == 0, result.stderr[-2000:]
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["linex_index"] for r in records] == [0, 1, 2]

    tokenizer = transformers.BertTokenizerFast.from_pretrained(minilm_path)
    model = transformers.BertModel.from_pretrained(minilm_path).eval()
    for line, record in zip(LINES, records):
        encoded = tokenizer(*line.split(" ||| "), return_tensors="pt")
        with torch.no_grad():
            hidden = model(**encoded, output_hidden_states=True).hidden_states
        pieces = tokenizer.convert_ids_to_tokens(encoded["input_ids"][0])
        assert [f["token"] for f in record["features"]] == pieces
        for position, feature in enumerate(record["features"]):
            for layer in feature["layers"]:
                expected = hidden[layer["index"]][0, position].numpy()
                np.testing.assert_allclose(layer["values"], expected, atol=1e-4)


def test_npz_output_and_bad_layers(tmp_path):
    out = tmp_path / "features.npz"
    result = _run(tmp_path, f"--output_file={out}", "--max_seq_length=16")
    assert result.returncode == 0, result.stderr[-2000:]
    saved = np.load(out)
    assert saved["features"].shape == (3, 16, 4, 384)
    assert saved["input_mask"].sum(1).tolist() == [len(t.split()) for t in saved["tokens"]]
    result = _run(tmp_path, f"--output_file={out}", "--layers=-7")
    assert result.returncode != 0
    assert "layers [-7] do not exist: the encoder has 6 layers" in result.stderr
    assert "Traceback" not in result.stderr
