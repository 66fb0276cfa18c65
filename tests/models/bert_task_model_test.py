"""Every task model round-trips through get_config and .keras with its encoder."""

import numpy as np
import pytest

from keras_bert import BertEncoder
from keras_bert.models import (
    BertClassifier,
    BertFeatureTagger,
    BertMultipleChoice,
    BertSpanLabeler,
    BertTokenClassifier,
)
from keras_test_utils import run_serialization_test


def _encoder():
    return BertEncoder(vocab_size=23, hidden_size=8, num_layers=2, num_attention_heads=2,
                       intermediate_size=12, max_position_embeddings=16)


def _inputs(shape=(3, 7)):
    ids = np.random.default_rng(0).integers(1, 23, shape).astype("int32")
    return {"input_word_ids": ids, "input_mask": np.ones_like(ids), "input_type_ids": np.zeros_like(ids)}


@pytest.mark.parametrize("build, inputs", [
    (lambda e: BertClassifier(e, num_classes=1, dropout=0.3), _inputs()),
    (lambda e: BertTokenClassifier(e, num_classes=5, initializer_range=0.05), _inputs()),
    (lambda e: BertFeatureTagger(e, num_classes=4, num_feature_layers=2, lstm_units=3), _inputs()),
    (lambda e: BertSpanLabeler(e), _inputs()),
    (lambda e: BertMultipleChoice(e, num_choices=3), _inputs((2, 3, 7))),
], ids=["classifier", "token_classifier", "feature_tagger", "span_labeler", "multiple_choice"])
def test_round_trip(build, inputs):
    model = build(_encoder())
    config = model.get_config()
    assert config["encoder"]["class_name"] == "BertEncoder"
    run_serialization_test(model, (inputs,))
