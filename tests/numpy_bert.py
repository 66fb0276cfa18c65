"""A plain NumPy BERT forward pass in Google's variable names: the reference for our layers.

Written from the paper and google-research/bert's modeling.py, sharing no code
with keras_bert, so a mistake in one does not hide in the other.
"""

import math

import numpy as np
from scipy.special import erf


def gelu(x, approximate):
    if approximate:  # google-research/bert's "gelu"
        return 0.5 * x * (1.0 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))
    return 0.5 * x * (1.0 + erf(x / math.sqrt(2.0)))


def layer_norm(x, gamma, beta, epsilon):
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + epsilon) * gamma + beta


def dense(x, weights, name):
    return x @ weights[name + "/kernel"] + weights[name + "/bias"]


def transformer_layer(x, mask, weights, prefix, num_heads, activation, epsilon):
    """One post-LN block; `x` (batch, seq, hidden), `mask` (batch, seq) of 0/1."""
    batch, seq, hidden = x.shape
    size = hidden // num_heads

    def heads(t):  # (batch, seq, hidden) -> (batch, heads, seq, size)
        return t.reshape(batch, seq, num_heads, size).transpose(0, 2, 1, 3)

    q = heads(dense(x, weights, prefix + "attention/self/query"))
    k = heads(dense(x, weights, prefix + "attention/self/key"))
    v = heads(dense(x, weights, prefix + "attention/self/value"))
    scores = q @ k.transpose(0, 1, 3, 2) / math.sqrt(size)
    scores = scores + (1.0 - mask[:, None, None, :]) * -10000.0
    probs = np.exp(scores - scores.max(-1, keepdims=True))
    probs /= probs.sum(-1, keepdims=True)
    context = (probs @ v).transpose(0, 2, 1, 3).reshape(batch, seq, hidden)
    attention = dense(context, weights, prefix + "attention/output/dense")
    x = layer_norm(
        x + attention,
        weights[prefix + "attention/output/LayerNorm/gamma"],
        weights[prefix + "attention/output/LayerNorm/beta"],
        epsilon,
    )
    inner = gelu(dense(x, weights, prefix + "intermediate/dense"), activation == "gelu_tanh")
    if activation == "relu":
        inner = np.maximum(dense(x, weights, prefix + "intermediate/dense"), 0)
    out = dense(inner, weights, prefix + "output/dense")
    return layer_norm(
        x + out,
        weights[prefix + "output/LayerNorm/gamma"],
        weights[prefix + "output/LayerNorm/beta"],
        epsilon,
    )


def bert_forward(weights, config, token_ids, mask, segment_ids):
    """Returns `(sequence_output, pooled_output, per-layer outputs)` in float64."""
    weights = {name: np.asarray(value, np.float64) for name, value in weights.items()}
    mask = np.asarray(mask, np.float64)
    seq = token_ids.shape[1]
    x = (
        weights["bert/embeddings/word_embeddings"][token_ids]
        + weights["bert/embeddings/token_type_embeddings"][segment_ids]
        + weights["bert/embeddings/position_embeddings"][None, :seq]
    )
    x = layer_norm(
        x,
        weights["bert/embeddings/LayerNorm/gamma"],
        weights["bert/embeddings/LayerNorm/beta"],
        config.layer_norm_epsilon,
    )
    layers = []
    for i in range(config.num_layers):
        x = transformer_layer(
            x,
            mask,
            weights,
            f"bert/encoder/layer_{i}/",
            config.num_attention_heads,
            config.hidden_act,
            config.layer_norm_epsilon,
        )
        layers.append(x)
    pooled = np.tanh(dense(x[:, 0], weights, "bert/pooler/dense"))
    return x, pooled, layers
