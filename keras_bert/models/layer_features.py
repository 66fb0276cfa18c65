"""Frozen per-layer features: the paper's feature-based approach."""

import numpy as np


def layer_features(encoder, inputs, layers=(-1, -2, -3, -4)):
    """Per-token hidden states of chosen layers, for a task model on top.

    Args:
        encoder: a `BertEncoder`.
        inputs: its input dict, `(batch_size, seq_length)` each.
        layers: layer indices into the blocks' outputs, Python style
            (`-1` is the last block). Defaults to the last four, whose
            concatenation the paper found best for NER (Table 7).

    Returns:
        float32 array `(batch_size, seq_length, len(layers), hidden_size)`.

    Example:
    >>> from keras_bert import BertEncoder
    >>> encoder = BertEncoder(vocab_size=23, hidden_size=8, num_layers=4,
    ...                       num_attention_heads=2, intermediate_size=12)
    >>> ids = np.ones((2, 5), "int32")
    >>> inputs = {"input_word_ids": ids, "input_mask": ids, "input_type_ids": 0 * ids}
    >>> layer_features(encoder, inputs, layers=(-1, -2)).shape
    (2, 5, 2, 8)
    """
    num_layers = encoder.config.num_layers
    bad = [i for i in layers if not -num_layers <= i < num_layers]
    if bad:
        raise ValueError(
            f"layers {bad} do not exist: the encoder has {num_layers} layers "
            f"(use 0..{num_layers - 1} or -1..-{num_layers})."
        )
    outputs = encoder(inputs, training=False)["encoder_outputs"]
    return np.stack([np.asarray(outputs[i], np.float32) for i in layers], axis=2)
