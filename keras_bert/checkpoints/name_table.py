"""Google's original variable names, and how ours and Hugging Face's map to them.

Google's TF1 names are the canonical names inside keras_bert: every reader
turns a checkpoint into `{google_name: numpy array in Google's shape}` and one
loader assigns those to the encoder; `head_weights` and `load_head_weights`
do the same for a `BertPretrainer`'s heads. Foreign names live only in this
module.
"""

import re

import numpy as np

# Our variable path inside a named encoder layer -> Google name.
_EMBEDDING_NAMES = {
    "word_embeddings/embeddings": "bert/embeddings/word_embeddings",
    "segment_embeddings/embeddings": "bert/embeddings/token_type_embeddings",
    "position_embeddings": "bert/embeddings/position_embeddings",
    "layer_norm/gamma": "bert/embeddings/LayerNorm/gamma",
    "layer_norm/beta": "bert/embeddings/LayerNorm/beta",
}
_BLOCK_NAMES = {
    "self_attention/query/kernel": "attention/self/query/kernel",
    "self_attention/query/bias": "attention/self/query/bias",
    "self_attention/key/kernel": "attention/self/key/kernel",
    "self_attention/key/bias": "attention/self/key/bias",
    "self_attention/value/kernel": "attention/self/value/kernel",
    "self_attention/value/bias": "attention/self/value/bias",
    "self_attention/attention_output/kernel": "attention/output/dense/kernel",
    "self_attention/attention_output/bias": "attention/output/dense/bias",
    "attention_layer_norm/gamma": "attention/output/LayerNorm/gamma",
    "attention_layer_norm/beta": "attention/output/LayerNorm/beta",
    "intermediate_dense/kernel": "intermediate/dense/kernel",
    "intermediate_dense/bias": "intermediate/dense/bias",
    "output_dense/kernel": "output/dense/kernel",
    "output_dense/bias": "output/dense/bias",
    "output_layer_norm/gamma": "output/LayerNorm/gamma",
    "output_layer_norm/beta": "output/LayerNorm/beta",
}
_POOLER_NAMES = {
    "dense/kernel": "bert/pooler/dense/kernel",
    "dense/bias": "bert/pooler/dense/bias",
}

# A `BertPretrainer`'s head variable paths (after the model name) -> Google's names.
_HEAD_NAMES = {
    "masked_lm/dense/kernel": "cls/predictions/transform/dense/kernel",
    "masked_lm/dense/bias": "cls/predictions/transform/dense/bias",
    "masked_lm/layer_norm/gamma": "cls/predictions/transform/LayerNorm/gamma",
    "masked_lm/layer_norm/beta": "cls/predictions/transform/LayerNorm/beta",
    "masked_lm/output_bias": "cls/predictions/output_bias",
    "nsp/kernel": "cls/seq_relationship/output_weights",  # stored transposed
    "nsp/bias": "cls/seq_relationship/output_bias",
}
_TRANSPOSED_HEAD = "cls/seq_relationship/output_weights"

# Pretraining heads, read when present (for the pretraining model).
HEAD_PREFIXES = ("cls/predictions/", "cls/seq_relationship/")

# Training state that a checkpoint may carry and an encoder never uses.
_OPTIMIZER_STATE = re.compile(r"(^global_step$|/adam_[mv]$|/Adam(_1)?$|/Momentum$)")


def is_optimizer_state(name):
    """Whether a Google checkpoint variable is optimizer state (Adam slots...)."""
    return bool(_OPTIMIZER_STATE.search(name))


def encoder_variables(encoder):
    """Maps each Google name to the encoder variable that holds it.

    Args:
        encoder: a built `BertEncoder`.

    Returns:
        A dict `{google_name: keras.Variable}` covering every encoder weight.
    """
    groups = [("embeddings", "", _EMBEDDING_NAMES), ("pooler", "", _POOLER_NAMES)]
    groups += [
        (f"transformer_layer_{i}", f"bert/encoder/layer_{i}/", _BLOCK_NAMES)
        for i in range(encoder.config.num_layers)
    ]
    table = {}
    for layer_name, prefix, names in groups:
        for variable in encoder.get_layer(layer_name).weights:
            inner_path = variable.path.split(layer_name + "/", 1)[-1]
            table[prefix + names[inner_path]] = variable
    return table


def encoder_weights(encoder):
    """The encoder's weights as `{google_name: numpy array}` (our variables have Google's shapes)."""
    return {name: variable.numpy() for name, variable in encoder_variables(encoder).items()}


def _head_variables(pretrainer):
    table = {}
    for layer_name in ("masked_lm", "nsp"):
        for variable in pretrainer.get_layer(layer_name).weights:
            # Paths start at the layer ("masked_lm/dense/kernel"), maybe after a prefix.
            path = variable.path
            table[_HEAD_NAMES[path[path.index(layer_name + "/"):]]] = variable
    return table


def head_weights(pretrainer):
    """A `BertPretrainer`'s heads as `{google_name: numpy array}` in Google's shapes.

    The masked-LM head becomes `cls/predictions/...`, the next-sentence head
    `cls/seq_relationship/...` (its kernel stored `(2, hidden)`, as Google does).

    Example:
    >>> from keras_bert import BertEncoder, BertPretrainer
    >>> pretrainer = BertPretrainer(BertEncoder(vocab_size=23, hidden_size=8, num_layers=1,
    ...                                         num_attention_heads=2, intermediate_size=12))
    >>> heads = head_weights(pretrainer)
    >>> len(heads), heads["cls/seq_relationship/output_weights"].shape
    (7, (2, 8))
    """
    weights = {name: variable.numpy() for name, variable in _head_variables(pretrainer).items()}
    weights[_TRANSPOSED_HEAD] = weights[_TRANSPOSED_HEAD].T
    return weights


def load_head_weights(pretrainer, weights, source="the checkpoint"):
    """Assigns `{google_name: array}` heads (as `read_checkpoint(...).heads`) to a `BertPretrainer`.

    Args:
        pretrainer: a `BertPretrainer`.
        weights: `{google_name: array}` in Google's shapes, as `head_weights`
            returns them.
        source: str. Names the checkpoint in the error message.

    Raises:
        ValueError: naming each head variable missing or of another shape.

    Example:
    >>> from keras_bert import BertEncoder, BertPretrainer
    >>> def pretrainer():
    ...     return BertPretrainer(BertEncoder(vocab_size=23, hidden_size=8, num_layers=1,
    ...                                       num_attention_heads=2, intermediate_size=12))
    >>> trained, fresh = pretrainer(), pretrainer()
    >>> load_head_weights(fresh, head_weights(trained))
    >>> np.array_equal(fresh.get_layer("nsp").kernel, trained.get_layer("nsp").kernel)
    True
    """
    problems = []
    for name, variable in _head_variables(pretrainer).items():
        value = weights.get(name)
        if value is None:
            problems.append(f"{name}: missing")
            continue
        value = np.asarray(value).T if name == _TRANSPOSED_HEAD else np.asarray(value)
        if value.shape != tuple(variable.shape):
            problems.append(f"{name}: expected {tuple(variable.shape)}, found {value.shape}")
        else:
            variable.assign(value)
    if problems:
        raise ValueError(f"{source} has no usable pretraining heads:\n  " + "\n  ".join(problems))


# --- Hugging Face -> Google ---------------------------------------------------

# Hugging Face buffers and tied copies that are not weights of their own.
_HF_IGNORED = re.compile(
    r"(position_ids$|cls\.predictions\.decoder\.(weight|bias)$)"
)


def google_name_from_hf(hf_name):
    """Translates a Hugging Face BERT weight name to Google's.

    Returns:
        `(google_name, transpose)`: `transpose` is True for `nn.Linear`
        weights, which PyTorch stores as `(out, in)`. `(None, False)` for
        buffers and tied copies that carry no weight of their own.

    Example:
    >>> google_name_from_hf("bert.encoder.layer.3.attention.self.query.weight")
    ('bert/encoder/layer_3/attention/self/query/kernel', True)
    """
    if _HF_IGNORED.search(hf_name):
        return None, False
    name = hf_name
    if not name.startswith(("bert.", "cls.")):
        name = "bert." + name
    name = re.sub(r"\.layer\.(\d+)\.", r".layer_\1.", name)
    if name == "cls.predictions.bias":
        return "cls/predictions/output_bias", False
    if name.startswith("cls.seq_relationship."):
        # Google keeps this one as (2, hidden), like PyTorch.
        leaf = {"weight": "output_weights", "bias": "output_bias"}[name.rsplit(".", 1)[1]]
        return "cls/seq_relationship/" + leaf, False
    base, leaf = name.rsplit(".", 1)
    base = base.replace(".", "/")
    if base.endswith("LayerNorm"):
        return base + "/" + {"weight": "gamma", "gamma": "gamma", "bias": "beta", "beta": "beta"}[leaf], False
    if base.endswith("_embeddings"):
        return base, False
    return base + "/" + {"weight": "kernel", "bias": "bias"}[leaf], leaf == "weight"


def google_weights_from_hf(hf_weights):
    """`{hf_name: array}` -> `{google_name: array}` in Google's layout.

    Names this table does not know are kept as they are, so the loader can
    report them as unused rather than drop them silently.
    """
    weights = {}
    for hf_name, value in hf_weights.items():
        try:
            google_name, transpose = google_name_from_hf(hf_name)
        except KeyError:
            google_name, transpose = hf_name, False
        if google_name is None:
            continue
        weights[google_name] = np.ascontiguousarray(value.T) if transpose else value
    return weights
