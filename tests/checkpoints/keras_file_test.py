"""The `.keras` layout: a saved `BertEncoder`, and nothing else."""

import keras
import numpy as np
import pytest

import keras_bert
from keras_bert import BertEncoder, CheckpointError, read_checkpoint


def test_keras_file_of_another_model_is_refused(tmp_path):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    model.save(tmp_path / "other.keras")
    with pytest.raises(CheckpointError, match="holds a Sequential, not a BertEncoder"):
        keras_bert.load_encoder(tmp_path / "other.keras")


def test_read_checkpoint_gives_the_saved_weights_in_google_names(tmp_path):
    encoder = BertEncoder(vocab_size=23, hidden_size=8, num_layers=2, num_attention_heads=2, intermediate_size=12)
    encoder.save(tmp_path / "tiny.keras")
    checkpoint = read_checkpoint(tmp_path / "tiny.keras")
    assert checkpoint.config == encoder.config and checkpoint.heads == {} and checkpoint.vocab_file is None
    # Google's (hidden, hidden) query kernel holds Keras' (hidden, heads, head_size) one, reshaped.
    query = next(v for v in encoder.weights if v.path.endswith("transformer_layer_1/self_attention/query/kernel"))
    np.testing.assert_array_equal(
        checkpoint.weights["bert/encoder/layer_1/attention/self/query/kernel"], np.reshape(query.numpy(), (8, 8))
    )
