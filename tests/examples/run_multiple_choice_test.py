import csv
import json
import subprocess
import sys

import numpy as np
import pytest

from conftest import REPO_ROOT
from keras_bert import BertEncoder, BertMultipleChoice
from keras_bert.data import multiple_choice_dataset, read_swag_csv
from keras_bert.text import BertPreprocessor

# A small SWAG-style set: the right ending follows the context's topic.
TOPICS = {
    "kitchen": ("The chef chops onions.", "She", "adds them to the hot pan."),
    "sport": ("The striker runs at goal.", "He", "shoots the ball past the keeper."),
    "music": ("The pianist sits down.", "She", "plays the first chords of the sonata."),
    "garden": ("The gardener kneels by the bed.", "He", "pulls the weeds from the soil."),
}


def _write_swag(path, rows):
    names = list(TOPICS)
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["video-id", "fold-ind", "startphrase", "sent1", "sent2", "gold-source",
                         "ending0", "ending1", "ending2", "ending3", "label"])
        for i in range(rows):
            topic = names[i % 4]
            sent1, sent2, right = TOPICS[topic]
            wrong = [TOPICS[t][2] for t in names if t != topic]
            label = i % 4
            endings = wrong[:label] + [right] + wrong[label:]
            writer.writerow([f"v{i}", i, f"{sent1} {sent2}", sent1, sent2, "gold", *endings, label])
    return path


def test_dataset_packs_each_pair(tmp_path, minilm_path):
    examples = read_swag_csv(_write_swag(tmp_path / "val.csv", 4))
    preprocessor = BertPreprocessor(f"{minilm_path}/vocab.txt", 32)
    inputs, labels = next(iter(multiple_choice_dataset(examples, preprocessor, 4)))
    assert inputs["input_word_ids"].shape[:2] == (4, 4) and labels.numpy().tolist() == [0, 1, 2, 3]
    single = preprocessor((np.array([examples.contexts[1]]), np.array([examples.endings[1][2]])))
    length = inputs["input_word_ids"].shape[2]
    np.testing.assert_array_equal(inputs["input_word_ids"][1, 2], single["input_word_ids"][0, :length])


def test_scores_equal_per_pair_classifier_scores():
    encoder = BertEncoder(vocab_size=23, hidden_size=8, num_layers=1, num_attention_heads=2, intermediate_size=12)
    model = BertMultipleChoice(encoder, num_choices=3)
    ids = np.random.default_rng(0).integers(1, 23, (2, 3, 6)).astype("int32")
    inputs = {"input_word_ids": ids, "input_mask": np.ones_like(ids), "input_type_ids": np.zeros_like(ids)}
    flat = {k: v.reshape(6, 6) for k, v in inputs.items()}
    dense = model.get_layer("choice_score")
    expected = (encoder(flat)["pooled_output"].numpy() @ dense.kernel.numpy() + dense.bias.numpy()).reshape(2, 3)
    np.testing.assert_allclose(model(inputs), expected, atol=1e-6)


def test_script_learns_the_toy_task_and_predicts_an_unlabelled_file(tmp_path):
    train = _write_swag(tmp_path / "train.csv", 64)
    val = _write_swag(tmp_path / "val.csv", 16)
    # The test file: the dev rows without their label column.
    with open(val, newline="") as f:
        rows = list(csv.reader(f))
    test = tmp_path / "test.csv"
    with open(test, "w", newline="") as f:
        csv.writer(f).writerows(row[:-1] for row in rows)
    out = tmp_path / "out"
    result = subprocess.run(
        [sys.executable, "examples/run_multiple_choice.py", f"--train_file={train}", f"--eval_file={val}",
         f"--output_dir={out}", "--num_train_epochs=2", "--max_seq_length=32", "--learning_rate=5e-5",
         "--do_predict", f"--test_file={test}"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=900,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    accuracy = json.loads((out / "eval_results.json").read_text())["accuracy"]
    assert accuracy > 0.5  # chance is 0.25
    # The test predictions, checked against the dev labels they hide, give the dev accuracy.
    with open(out / "test_predictions.csv", newline="") as f:
        predicted = list(csv.DictReader(f))
    gold = [int(row[-1]) for row in rows[1:]]
    assert np.mean([int(row["label"]) == label for row, label in zip(predicted, gold)]) == pytest.approx(accuracy)
    probabilities = np.array([[float(row[f"probability{i}"]) for i in range(4)] for row in predicted])
    np.testing.assert_allclose(probabilities.sum(-1), 1.0, atol=1e-5)
    # --nodo_train scores the saved model again: the same accuracy.
    again = subprocess.run(
        [sys.executable, "examples/run_multiple_choice.py", "--nodo_train", f"--eval_file={val}", f"--output_dir={out}"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=600,
    )
    assert again.returncode == 0, again.stderr[-3000:]
    assert json.loads((out / "eval_results.json").read_text())["accuracy"] == pytest.approx(accuracy)


def test_bad_csv(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("sent1,sent2,ending0,label\nA,B,C,0\n")
    with pytest.raises(ValueError, match=r"missing column\(s\) \['ending1', 'ending2', 'ending3'\]"):
        read_swag_csv(path)
    path.write_text("sent1,sent2,ending0,ending1,ending2,ending3,label\nA,B,C,D,E,F,4\n")
    with pytest.raises(ValueError, match="bad.csv, line 2: label '4' is not 0, 1, 2 or 3"):
        read_swag_csv(path)
