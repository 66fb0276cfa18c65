"""`BertConfig`: the hyperparameters of a BERT encoder.

Its JSON files (Google's `bert_config.json`, Hugging Face's `config.json`)
are read and written by `keras_bert.checkpoints.read_config_json` and
`write_config_json`.
"""

import dataclasses

HIDDEN_ACTIVATIONS = ("gelu", "gelu_tanh", "relu", "tanh")


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
