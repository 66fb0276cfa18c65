"""The pretraining heads' name table: `head_weights` and `load_head_weights` in Google's names."""

import keras
import numpy as np
import pytest

from keras_bert import BertEncoder, BertPretrainer, load_encoder, read_checkpoint, save_tf1_checkpoint
from keras_bert.checkpoints import head_weights, load_head_weights
from keras_test_utils import pretraining_inputs


def _tiny_pretrainer():
    return BertPretrainer(BertEncoder(vocab_size=50, hidden_size=16, num_layers=2, num_attention_heads=2,
                                      intermediate_size=24, max_position_embeddings=32))


def test_google_checkpoint_round_trip_keeps_the_heads(tmp_path):
    pretrainer = _tiny_pretrainer()
    inputs = pretraining_inputs(np.random.default_rng(1))
    save_tf1_checkpoint(pretrainer.encoder, str(tmp_path), extra_weights=head_weights(pretrainer))
    checkpoint = read_checkpoint(str(tmp_path))
    assert checkpoint.heads["cls/seq_relationship/output_weights"].shape == (2, 16)  # Google's layout
    revived = BertPretrainer(load_encoder(str(tmp_path)))
    load_head_weights(revived, checkpoint.heads)
    keras.tree.map_structure(
        np.testing.assert_array_equal, revived(inputs, training=False), pretrainer(inputs, training=False)
    )


def test_missing_or_misshapen_heads_are_named():
    pretrainer = _tiny_pretrainer()
    heads = head_weights(pretrainer)
    del heads["cls/predictions/output_bias"]
    heads["cls/seq_relationship/output_bias"] = np.zeros(3)
    with pytest.raises(ValueError, match=r"output_bias: missing(.|\n)*output_bias: expected \(2,\), found \(3,\)"):
        load_head_weights(pretrainer, heads, "x.ckpt")
