"""Google's `bert_config.json` and Hugging Face's `config.json`, each read with its own meaning."""

import json

import pytest

from keras_bert import BertConfig
from keras_bert.checkpoints import read_config_json, write_config_json


def test_google_json_reads_gelu_as_the_tanh_approximation(shared_data):
    config = read_config_json(shared_data / "checkpoints/tf1_toy/bert_config.json")
    assert config == BertConfig(
        vocab_size=15,
        hidden_size=4,
        num_layers=2,
        num_attention_heads=4,
        intermediate_size=16,
        hidden_act="gelu_tanh",  # what google-research/bert's modeling.gelu computes
        max_position_embeddings=16,
        layer_norm_epsilon=1e-12,
    )


def test_hf_json_reads_gelu_as_exact(minilm_path):
    config = read_config_json(f"{minilm_path}/config.json")
    assert (config.num_layers, config.hidden_size, config.num_attention_heads) == (6, 384, 12)
    assert (config.intermediate_size, config.hidden_act, config.vocab_size) == (1536, "gelu", 30522)


@pytest.mark.parametrize("dialect", ["google", "hf"])
@pytest.mark.parametrize("act", ["gelu", "gelu_tanh", "relu"])
@pytest.mark.parametrize("causal", [False, True])
def test_json_round_trip_keeps_every_field(tmp_path, dialect, act, causal):
    config = BertConfig(vocab_size=23, hidden_size=8, num_layers=3, num_attention_heads=2,
                        intermediate_size=12, hidden_act=act, hidden_dropout_prob=0.05,
                        max_position_embeddings=40, type_vocab_size=3, initializer_range=0.03,
                        causal_attention=causal)
    path = tmp_path / "config.json"
    write_config_json(config, path, dialect=dialect)
    assert read_config_json(path) == config
    # Google's own configs never carry our causal key; HF's switch is is_decoder.
    written = json.loads(path.read_text())
    if dialect == "google":
        assert ("keras_bert_causal_attention" in written) == causal
    else:
        assert written["is_decoder"] == causal


def test_google_json_is_readable_by_the_original_code(tmp_path):
    # The original BertConfig.from_dict copies every key; these are the ones it uses.
    path = tmp_path / "bert_config.json"
    write_config_json(BertConfig(hidden_act="gelu"), path, dialect="google")
    values = json.loads(path.read_text())
    assert values["hidden_act"] == "gelu"
    assert values["num_hidden_layers"] == 12 and values["type_vocab_size"] == 2


def test_hf_json_marks_tanh_gelu_for_transformers(tmp_path):
    path = tmp_path / "config.json"
    write_config_json(BertConfig(hidden_act="gelu_tanh", layer_norm_epsilon=1e-6), path, dialect="hf")
    values = json.loads(path.read_text())
    assert values["hidden_act"] == "gelu_new" and values["layer_norm_eps"] == 1e-6
    assert values["model_type"] == "bert"


def test_unsupported_foreign_configs_are_refused(tmp_path):
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"model_type": "bert", "vocab_size": 9, "hidden_size": 4,
                                "num_attention_heads": 2, "position_embedding_type": "relative_key"}))
    with pytest.raises(ValueError, match="position_embedding_type='relative_key'"):
        read_config_json(path)
    path.write_text(json.dumps({"model_type": "roberta", "vocab_size": 9, "hidden_size": 4}))
    with pytest.raises(ValueError, match="model_type='roberta'"):
        read_config_json(path)


def test_missing_and_broken_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="No BERT config file at"):
        read_config_json(tmp_path / "nope.json")
    path = tmp_path / "bert_config.json"
    path.write_text("{not json")
    with pytest.raises(ValueError, match="is not valid JSON"):
        read_config_json(path)


def test_google_json_cannot_hold_another_epsilon(tmp_path):
    with pytest.raises(ValueError, match="write a Hugging Face config.json instead"):
        write_config_json(BertConfig(layer_norm_epsilon=1e-6), tmp_path / "c.json", dialect="google")
