import json
import logging
import os
import shutil

import numpy as np
import pytest
import tensorflow as tf

from keras_bert import BertEncoder, CheckpointError, load_encoder, read_checkpoint, save_tf1_checkpoint
from keras_bert.checkpoints.name_table import encoder_variables
from numpy_bert import bert_forward

TOY_HEADS = {
    "cls/predictions/output_bias",
    "cls/predictions/transform/LayerNorm/beta",
    "cls/predictions/transform/LayerNorm/gamma",
    "cls/predictions/transform/dense/bias",
    "cls/predictions/transform/dense/kernel",
    "cls/seq_relationship/output_bias",
    "cls/seq_relationship/output_weights",
}


@pytest.fixture
def toy_dir(shared_data, tmp_path):
    """A private copy of the TF1 toy checkpoint, free to damage."""
    directory = tmp_path / "tf1_toy"
    shutil.copytree(shared_data / "checkpoints/tf1_toy", directory)
    return directory


def _raw_variables(prefix):
    """The checkpoint read with TensorFlow alone, not through keras_bert."""
    reader = tf.train.load_checkpoint(str(prefix))
    return {name: reader.get_tensor(name) for name in reader.get_variable_to_shape_map()}


def _toy_inputs():
    ids = np.array([[2, 5, 6, 7, 3, 8, 9, 3], [2, 10, 11, 3, 0, 0, 0, 0]], "int32")
    mask = (ids > 0).astype("int32")
    segments = np.array([[0, 0, 0, 0, 0, 1, 1, 1], [0, 0, 0, 0, 0, 0, 0, 0]], "int32")
    return {"input_word_ids": ids, "input_mask": mask, "input_type_ids": segments}


def test_toy_checkpoint_loads_with_every_variable_mapped(toy_dir):
    checkpoint = read_checkpoint(toy_dir)
    encoder = BertEncoder.from_bert_config(checkpoint.config)
    raw = _raw_variables(toy_dir / "bert_model.ckpt")
    encoder_names = {n for n in raw if n.startswith("bert/") and not n.endswith(("adam_m", "adam_v"))}
    assert set(encoder_variables(encoder)) == set(checkpoint.weights) == encoder_names
    assert set(checkpoint.heads) == TOY_HEADS
    assert checkpoint.unused == []  # only Adam slots and global_step are left
    assert checkpoint.vocab_file == str(toy_dir / "vocab.txt")


def test_toy_forward_matches_numpy_reference(toy_dir):
    encoder = load_encoder(toy_dir)
    raw = _raw_variables(toy_dir / "bert_model.ckpt")
    inputs = _toy_inputs()
    sequence, pooled, _ = bert_forward(
        raw, encoder.config, inputs["input_word_ids"], inputs["input_mask"], inputs["input_type_ids"]
    )
    outputs = encoder(inputs)
    mask = inputs["input_mask"].astype(bool)
    np.testing.assert_allclose(outputs["sequence_output"].numpy()[mask], sequence[mask], atol=1e-5)
    np.testing.assert_allclose(outputs["pooled_output"], pooled, atol=1e-5)


def test_save_writes_the_original_names_shapes_and_values(toy_dir, tmp_path):
    checkpoint = read_checkpoint(toy_dir)
    encoder = load_encoder(toy_dir)
    out = tmp_path / "saved"
    prefix = save_tf1_checkpoint(encoder, out, vocab_file=checkpoint.vocab_file, extra_weights=checkpoint.heads)
    assert prefix == str(out / "bert_model.ckpt")
    assert sorted(os.listdir(out)) == [
        "bert_config.json", "bert_model.ckpt.data-00000-of-00001", "bert_model.ckpt.index", "vocab.txt",
    ]
    original = {k: v for k, v in _raw_variables(toy_dir / "bert_model.ckpt").items()
                if k.startswith(("bert/", "cls/")) and not k.endswith(("adam_m", "adam_v"))}
    written = _raw_variables(prefix)
    assert set(written) == set(original)
    for name, value in original.items():
        np.testing.assert_array_equal(written[name], value, err_msg=name)
    assert json.loads((out / "bert_config.json").read_text())["hidden_act"] == "gelu"
    reloaded = load_encoder(out)
    assert reloaded.config == encoder.config
    np.testing.assert_array_equal(reloaded(_toy_inputs())["pooled_output"], encoder(_toy_inputs())["pooled_output"])


def test_checkpoint_prefix_is_accepted(toy_dir):
    assert load_encoder(toy_dir / "bert_model.ckpt").config.num_layers == 2


def test_shape_mismatch_names_variable_and_both_shapes(toy_dir):
    config = json.loads((toy_dir / "bert_config.json").read_text())
    config["hidden_size"] = 8
    (toy_dir / "bert_config.json").write_text(json.dumps(config))
    with pytest.raises(CheckpointError) as error:
        load_encoder(toy_dir)
    message = str(error.value)
    assert "bert/embeddings/word_embeddings: expected shape (15, 8), found (15, 4)" in message
    assert "bert/encoder/layer_0/attention/self/query/kernel: expected shape (8, 8), found (4, 4)" in message
    assert "Build the encoder from the checkpoint's own config" in message


def test_missing_variables_are_errors_not_zeros(toy_dir):
    config = json.loads((toy_dir / "bert_config.json").read_text())
    config["num_hidden_layers"] = 3
    (toy_dir / "bert_config.json").write_text(json.dumps(config))
    with pytest.raises(CheckpointError, match=r"bert/encoder/layer_2/attention/output/LayerNorm/beta: missing"):
        load_encoder(toy_dir)


def test_unused_variables_are_reported(toy_dir, tmp_path, caplog):
    encoder = load_encoder(toy_dir)
    out = tmp_path / "extra"
    extra = {"bert_adapter/scale": np.ones(3, "float32"), "bert/encoder/layer_9/output/dense/bias": np.ones(4, "float32")}
    save_tf1_checkpoint(encoder, out, extra_weights=extra)
    assert read_checkpoint(out).unused == ["bert_adapter/scale"]
    with caplog.at_level(logging.WARNING):
        load_encoder(out)
    assert "2 variable(s)" in caplog.text
    assert "bert_adapter/scale" in caplog.text and "bert/encoder/layer_9/output/dense/bias" in caplog.text


def test_missing_config_file(toy_dir):
    os.remove(toy_dir / "bert_config.json")
    with pytest.raises(FileNotFoundError, match="has no bert_config.json beside it"):
        load_encoder(toy_dir)


def test_truncated_checkpoint(toy_dir):
    data = toy_dir / "bert_model.ckpt.data-00000-of-00001"
    data.write_bytes(data.read_bytes()[:100])
    with pytest.raises(CheckpointError, match="Cannot read the TF1 checkpoint"):
        load_encoder(toy_dir)


def test_nonexistent_path_and_unknown_layout(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist. Accepted: \\(a\\) Google's release layout"):
        load_encoder(tmp_path / "nowhere")
    (tmp_path / "weights.npz").write_bytes(b"")
    with pytest.raises(CheckpointError, match=r"Unknown checkpoint layout in .* \['weights.npz'\]"):
        load_encoder(tmp_path)


def test_load_encoder_and_vocab_checks_the_vocabulary_size(toy_dir, tmp_path):
    from keras_bert.checkpoints import load_encoder_and_vocab

    encoder, vocab_file = load_encoder_and_vocab(toy_dir)
    assert vocab_file == str(toy_dir / "vocab.txt") and encoder.config.vocab_size == 15
    big = tmp_path / "vocab.txt"
    big.write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + [f"w{i}" for i in range(20)]))
    with pytest.raises(ValueError, match=r"has 25 tokens but the checkpoint's vocab_size is 15"):
        load_encoder_and_vocab(toy_dir, big)
    os.remove(toy_dir / "vocab.txt")
    with pytest.raises(FileNotFoundError, match="No vocab.txt beside"):
        load_encoder_and_vocab(toy_dir)


def test_random_init_keeps_the_architecture_and_vocabulary_only(toy_dir):
    from keras_bert.checkpoints import load_encoder_and_vocab

    loaded, vocab_file = load_encoder_and_vocab(toy_dir)
    fresh, fresh_vocab = load_encoder_and_vocab(toy_dir, random_init=True)
    assert fresh.config == loaded.config and fresh_vocab == vocab_file
    for ours, theirs in zip(fresh.weights, loaded.weights):
        if "gamma" in ours.path or "beta" in ours.path or "bias" in ours.path:
            continue  # LayerNorm and biases start at constants that the toy may share
        assert not np.allclose(ours.numpy(), theirs.numpy()), ours.path
