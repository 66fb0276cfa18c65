import pytest

from keras_bert import BertConfig


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"hidden_size": 10, "num_attention_heads": 4}, "hidden_size=10 is not divisible by num_attention_heads=4"),
        ({"num_layers": 0}, "num_layers=0 is invalid; it must be a positive integer"),
        ({"vocab_size": -3}, "vocab_size=-3 is invalid"),
        ({"intermediate_size": 2.5}, "intermediate_size=2.5 is invalid"),
        ({"hidden_dropout_prob": 1.0}, r"hidden_dropout_prob=1.0 is invalid; a dropout rate must be in \[0, 1\)"),
        ({"layer_norm_epsilon": 0}, "layer_norm_epsilon=0 is invalid"),
        ({"hidden_act": "swish"}, "hidden_act='swish' is not supported; use one of gelu, gelu_tanh"),
    ],
)
def test_invalid_values_name_the_field(kwargs, message):
    with pytest.raises(ValueError, match=message):
        BertConfig(**kwargs)


def test_from_dict_rejects_typos():
    with pytest.raises(ValueError, match=r"Unknown BertConfig field\(s\) \['num_hidden_layer'\]"):
        BertConfig.from_dict({"num_hidden_layer": 2})
