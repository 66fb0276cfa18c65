"""`BertConfig`: the hyperparameters of a BERT encoder, and their JSON files.

Two JSON dialects describe the same model:

* Google's `bert_config.json` (the original release). Its `"hidden_act":
  "gelu"` means the *tanh approximation*, because that is what the original
  `modeling.py` computes.
* Hugging Face's `config.json`. Its `"gelu"` means the exact erf GELU; the
  tanh approximation is `"gelu_new"` / `"gelu_pytorch_tanh"`.

Inside keras_bert, `hidden_act` uses Keras' meaning: `"gelu"` is exact (erf),
`"gelu_tanh"` is the approximation. Files written by `to_google_json` keep an
extra key, `"keras_bert_hidden_act"`, so a round trip never changes the
activation; the original code ignores unknown keys.
"""

import dataclasses
import json
import os

HIDDEN_ACTIVATIONS = ("gelu", "gelu_tanh", "relu", "tanh")

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


@dataclasses.dataclass(frozen=True)
class BertConfig:
    """Hyperparameters of a BERT encoder. Defaults are BERT-Base.

    Args:
        vocab_size: int. Rows of the WordPiece embedding table.
        hidden_size: int. Width of every hidden state.
        num_layers: int. Number of Transformer blocks.
        num_attention_heads: int. Heads per block; must divide `hidden_size`.
        intermediate_size: int. Width of the feed-forward hidden layer.
        hidden_act: str. Feed-forward activation: `"gelu"` (exact, erf),
            `"gelu_tanh"` (tanh approximation), `"relu"` or `"tanh"`.
        hidden_dropout_prob: float. Dropout on embeddings and block outputs.
        attention_probs_dropout_prob: float. Dropout on attention weights.
        max_position_embeddings: int. Longest sequence the model accepts.
        type_vocab_size: int. Number of segment (token type) ids.
        initializer_range: float. Stddev of the truncated-normal initializer.
        layer_norm_epsilon: float. Epsilon of every LayerNorm.
        causal_attention: bool. Each position attends only to itself and
            the positions before it (a left-to-right model, the paper's
            "LTR" ablation; pooling then reads the last real token, since
            `[CLS]` sees nothing else). BERT is `False`.

    Raises:
        ValueError: naming the field, its value and what is allowed, when a
            value is invalid (e.g. `hidden_size` not divisible by the heads).

    Example:
    >>> config = BertConfig(vocab_size=23, hidden_size=8, num_layers=2,
    ...                     num_attention_heads=2, intermediate_size=12)
    >>> config.head_size
    4
    >>> BertConfig(vocab_size=23, hidden_size=10, num_attention_heads=4)
    Traceback (most recent call last):
    ...
    ValueError: hidden_size=10 is not divisible by num_attention_heads=4; use a number of heads that divides 10, such as 1, 2, 5 or 10.
    """

    vocab_size: int = 30522
    hidden_size: int = 768
    num_layers: int = 12
    num_attention_heads: int = 12
    intermediate_size: int = 3072
    hidden_act: str = "gelu"
    hidden_dropout_prob: float = 0.1
    attention_probs_dropout_prob: float = 0.1
    max_position_embeddings: int = 512
    type_vocab_size: int = 2
    initializer_range: float = 0.02
    layer_norm_epsilon: float = 1e-12
    causal_attention: bool = False

    def __post_init__(self):
        if not isinstance(self.causal_attention, bool):
            raise ValueError(f"causal_attention={self.causal_attention!r} is invalid; it must be True or False.")
        for name in (
            "vocab_size",
            "hidden_size",
            "num_layers",
            "num_attention_heads",
            "intermediate_size",
            "max_position_embeddings",
            "type_vocab_size",
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(
                    f"{name}={value!r} is invalid; it must be a positive integer."
                )
        for name in ("hidden_dropout_prob", "attention_probs_dropout_prob"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not 0.0 <= value < 1.0:
                raise ValueError(
                    f"{name}={value!r} is invalid; a dropout rate must be in [0, 1)."
                )
        for name in ("initializer_range", "layer_norm_epsilon"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or value <= 0:
                raise ValueError(
                    f"{name}={value!r} is invalid; it must be a positive number."
                )
        if self.hidden_act not in HIDDEN_ACTIVATIONS:
            raise ValueError(
                f"hidden_act={self.hidden_act!r} is not supported; use one of "
                f"{', '.join(HIDDEN_ACTIVATIONS)}."
            )
        if self.hidden_size % self.num_attention_heads:
            divisors = [
                d for d in range(1, self.hidden_size + 1) if self.hidden_size % d == 0
            ]
            examples = ", ".join(str(d) for d in divisors[:-1][:4])
            raise ValueError(
                f"hidden_size={self.hidden_size} is not divisible by "
                f"num_attention_heads={self.num_attention_heads}; use a number of "
                f"heads that divides {self.hidden_size}, such as {examples} or "
                f"{divisors[-1]}."
            )

    @property
    def head_size(self):
        """Width of one attention head: `hidden_size // num_attention_heads`."""
        return self.hidden_size // self.num_attention_heads

    def to_dict(self):
        """The fields as a plain dict (the keyword arguments of `BertEncoder`)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values):
        """Builds a config from our own field names; unknown keys raise."""
        unknown = sorted(set(values) - {f.name for f in dataclasses.fields(cls)})
        if unknown:
            raise ValueError(
                f"Unknown BertConfig field(s) {unknown}; valid fields are "
                f"{[f.name for f in dataclasses.fields(cls)]}."
            )
        return cls(**values)

    # --- Google's bert_config.json -------------------------------------------

    @classmethod
    def from_google_dict(cls, values):
        """Reads the dict of a Google `bert_config.json`."""
        act = values.get("keras_bert_hidden_act")
        if act is None:
            act = _translate_activation(values.get("hidden_act", "gelu"), _GOOGLE_ACTIVATIONS, "bert_config.json")
        return cls(
            hidden_act=act,
            layer_norm_epsilon=GOOGLE_LAYER_NORM_EPSILON,
            causal_attention=bool(values.get("keras_bert_causal_attention", False)),
            **_shared_fields(values),
        )

    def to_google_dict(self):
        """This config as a Google `bert_config.json` dict."""
        if self.layer_norm_epsilon != GOOGLE_LAYER_NORM_EPSILON:
            raise ValueError(
                f"layer_norm_epsilon={self.layer_norm_epsilon} cannot be written to a "
                f"Google bert_config.json, whose code fixes it at "
                f"{GOOGLE_LAYER_NORM_EPSILON}; write a Hugging Face config.json instead."
            )
        google_act = {"gelu": "gelu", "gelu_tanh": "gelu"}.get(self.hidden_act, self.hidden_act)
        values = {key: getattr(self, field) for key, field in _JSON_KEYS.items()}
        values["hidden_act"] = google_act
        values["keras_bert_hidden_act"] = self.hidden_act
        if self.causal_attention:  # only then: Google's own configs never carry it
            values["keras_bert_causal_attention"] = True
        return values

    # --- Hugging Face config.json ---------------------------------------------

    @classmethod
    def from_hf_dict(cls, values):
        """Reads the dict of a Hugging Face BERT `config.json`."""
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
        return cls(
            hidden_act=act,
            layer_norm_epsilon=values.get("layer_norm_eps", 1e-12),
            causal_attention=bool(values.get("is_decoder", False)),  # HF's causal self-attention switch
            **_shared_fields(values),
        )

    def to_hf_dict(self):
        """This config as a Hugging Face `config.json` dict."""
        values = {key: getattr(self, field) for key, field in _JSON_KEYS.items()}
        values.update(
            model_type="bert",
            architectures=["BertModel"],
            hidden_act=_HF_NAMES_OF_OURS[self.hidden_act],
            layer_norm_eps=self.layer_norm_epsilon,
            position_embedding_type="absolute",
            pad_token_id=0,
            is_decoder=self.causal_attention,
        )
        return values

    # --- files ----------------------------------------------------------------

    @classmethod
    def from_json_file(cls, path):
        """Reads `bert_config.json` (Google) or `config.json` (Hugging Face).

        The dialect is told by the content: Hugging Face files carry
        `model_type`, Google's never do.
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
            raise ValueError(
                f"{path} lacks {missing}; it does not look like a BERT config."
            )
        if "model_type" in values:
            return cls.from_hf_dict(values)
        return cls.from_google_dict(values)

    def to_json_file(self, path, dialect="google"):
        """Writes this config as `dialect` `"google"` or `"hf"` JSON."""
        writers = {"google": self.to_google_dict, "hf": self.to_hf_dict}
        if dialect not in writers:
            raise ValueError(f"dialect={dialect!r}; use 'google' or 'hf'.")
        with open(path, "w", encoding="utf-8") as f:
            json.dump(writers[dialect](), f, indent=2, sort_keys=True)
            f.write("\n")


def _shared_fields(values):
    return {field: values[key] for key, field in _JSON_KEYS.items() if key in values}


def _translate_activation(name, table, file_kind):
    if name not in table:
        raise ValueError(
            f"{file_kind} has hidden_act={name!r}, which keras_bert does not "
            f"implement; supported: {sorted(table)}."
        )
    return table[name]
