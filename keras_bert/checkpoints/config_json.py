"""A `BertConfig` as JSON: Google's `bert_config.json` and Hugging Face's `config.json`.

Two JSON dialects describe the same model:

* Google's `bert_config.json` (the original release). Its `"hidden_act":
  "gelu"` means the *tanh approximation*, because that is what the original
  `modeling.py` computes.
* Hugging Face's `config.json`. Its `"gelu"` means the exact erf GELU; the
  tanh approximation is `"gelu_new"` / `"gelu_pytorch_tanh"`.

Inside keras_bert, `hidden_act` uses Keras' meaning: `"gelu"` is exact (erf),
`"gelu_tanh"` is the approximation. Google files written here keep an extra
key, `"keras_bert_hidden_act"`, so a round trip never changes the activation;
the original code ignores unknown keys.
"""

import json
import os

from keras_bert.config import BertConfig

# Foreign activation names -> ours, per dialect.
_GOOGLE_ACTIVATIONS = {"gelu": "gelu_tanh", "relu": "relu", "tanh": "tanh"}
_HF_ACTIVATIONS = {
    "gelu": "gelu",
    "gelu_new": "gelu_tanh",
    "gelu_pytorch_tanh": "gelu_tanh",
    "gelu_fast": "gelu_tanh",
    "relu": "relu",
    "tanh": "tanh",
}
_HF_NAMES_OF_OURS = {"gelu": "gelu", "gelu_tanh": "gelu_new", "relu": "relu", "tanh": "tanh"}

# Keys shared by both JSON dialects, mapped to BertConfig field names.
_JSON_KEYS = {
    "vocab_size": "vocab_size",
    "hidden_size": "hidden_size",
    "num_hidden_layers": "num_layers",
    "num_attention_heads": "num_attention_heads",
    "intermediate_size": "intermediate_size",
    "hidden_dropout_prob": "hidden_dropout_prob",
    "attention_probs_dropout_prob": "attention_probs_dropout_prob",
    "max_position_embeddings": "max_position_embeddings",
    "type_vocab_size": "type_vocab_size",
    "initializer_range": "initializer_range",
}

# Original BERT hard-codes this epsilon in modeling.py; it is not in the JSON.
GOOGLE_LAYER_NORM_EPSILON = 1e-12


def read_config_json(path):
    """Reads `bert_config.json` (Google) or `config.json` (Hugging Face).

    The dialect is told by the content: Hugging Face files carry
    `model_type`, Google's never do.

    Args:
        path: str. The JSON file.

    Returns:
        A `BertConfig`.

    Raises:
        FileNotFoundError: no file at `path`.
        ValueError: the file is not JSON, not a BERT config, or asks for
            something keras_bert does not implement (another model type,
            relative positions, an unknown activation).

    Example:
    >>> import tempfile
    >>> path = tempfile.mktemp(suffix=".json")
    >>> _ = open(path, "w").write('{"vocab_size": 23, "hidden_size": 8, "num_attention_heads": 2, "hidden_act": "gelu"}')
    >>> read_config_json(path).hidden_act  # Google's "gelu" is the tanh approximation
    'gelu_tanh'
    """
    if not os.path.isfile(path):
        raise FileNotFoundError(
            f"No BERT config file at {path!r}; expected Google's "
            "bert_config.json or Hugging Face's config.json."
        )
    with open(path, encoding="utf-8") as f:
        try:
            values = json.load(f)
        except json.JSONDecodeError as e:
            raise ValueError(f"{path} is not valid JSON: {e}") from None
    missing = [key for key in ("vocab_size", "hidden_size") if key not in values]
    if missing:
        raise ValueError(f"{path} lacks {missing}; it does not look like a BERT config.")
    if "model_type" in values:
        return _from_hf_dict(values)
    return _from_google_dict(values)


def write_config_json(config, path, dialect="google"):
    """Writes a `BertConfig` as `dialect` `"google"` or `"hf"` JSON.

    Args:
        config: a `BertConfig`.
        path: str. The file to write.
        dialect: `"google"` (`bert_config.json`, read by google-research/bert)
            or `"hf"` (`config.json`, read by `transformers`).

    Raises:
        ValueError: an unknown `dialect`, or a `layer_norm_epsilon` other
            than `1e-12` for `"google"` (whose code fixes it).

    Example:
    >>> import tempfile
    >>> config = BertConfig(vocab_size=23, hidden_size=8, num_layers=1, num_attention_heads=2,
    ...                     intermediate_size=12, hidden_act="gelu_tanh")
    >>> path = tempfile.mktemp(suffix=".json")
    >>> write_config_json(config, path, dialect="hf")
    >>> json.load(open(path))["hidden_act"]
    'gelu_new'
    >>> read_config_json(path) == config
    True
    """
    writers = {"google": _to_google_dict, "hf": _to_hf_dict}
    if dialect not in writers:
        raise ValueError(f"dialect={dialect!r}; use 'google' or 'hf'.")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(writers[dialect](config), f, indent=2, sort_keys=True)
        f.write("\n")


def _from_google_dict(values):
    act = values.get("keras_bert_hidden_act")
    if act is None:
        act = _translate_activation(values.get("hidden_act", "gelu"), _GOOGLE_ACTIVATIONS, "bert_config.json")
    return BertConfig(
        hidden_act=act,
        layer_norm_epsilon=GOOGLE_LAYER_NORM_EPSILON,
        causal_attention=bool(values.get("keras_bert_causal_attention", False)),
        **_shared_fields(values),
    )


def _to_google_dict(config):
    if config.layer_norm_epsilon != GOOGLE_LAYER_NORM_EPSILON:
        raise ValueError(
            f"layer_norm_epsilon={config.layer_norm_epsilon} cannot be written to a "
            f"Google bert_config.json, whose code fixes it at "
            f"{GOOGLE_LAYER_NORM_EPSILON}; write a Hugging Face config.json instead."
        )
    google_act = {"gelu": "gelu", "gelu_tanh": "gelu"}.get(config.hidden_act, config.hidden_act)
    values = {key: getattr(config, field) for key, field in _JSON_KEYS.items()}
    values["hidden_act"] = google_act
    values["keras_bert_hidden_act"] = config.hidden_act
    if config.causal_attention:  # only then: Google's own configs never carry it
        values["keras_bert_causal_attention"] = True
    return values


def _from_hf_dict(values):
    model_type = values.get("model_type", "bert")
    if model_type != "bert":
        raise ValueError(
            f"config.json has model_type={model_type!r}; keras_bert reads BERT "
            "checkpoints only (model_type 'bert')."
        )
    position_type = values.get("position_embedding_type", "absolute")
    if position_type != "absolute":
        raise ValueError(
            f"config.json has position_embedding_type={position_type!r}; BERT uses "
            "learned absolute positions ('absolute'), the only kind supported."
        )
    act = _translate_activation(values.get("hidden_act", "gelu"), _HF_ACTIVATIONS, "config.json")
    return BertConfig(
        hidden_act=act,
        layer_norm_epsilon=values.get("layer_norm_eps", 1e-12),
        causal_attention=bool(values.get("is_decoder", False)),  # HF's causal self-attention switch
        **_shared_fields(values),
    )


def _to_hf_dict(config):
    values = {key: getattr(config, field) for key, field in _JSON_KEYS.items()}
    values.update(
        model_type="bert",
        architectures=["BertModel"],
        hidden_act=_HF_NAMES_OF_OURS[config.hidden_act],
        layer_norm_eps=config.layer_norm_epsilon,
        position_embedding_type="absolute",
        pad_token_id=0,
        is_decoder=config.causal_attention,
    )
    return values


def _shared_fields(values):
    return {field: values[key] for key, field in _JSON_KEYS.items() if key in values}


def _translate_activation(name, table, file_kind):
    if name not in table:
        raise ValueError(
            f"{file_kind} has hidden_act={name!r}, which keras_bert does not "
            f"implement; supported: {sorted(table)}."
        )
    return table[name]
