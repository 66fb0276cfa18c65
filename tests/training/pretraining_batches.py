"""Pretraining batches where every row fills all its prediction slots, for exact comparisons.

With equal prediction counts everywhere, the mean of per-part MLM means (micro-batches,
replicas) equals the mean over the whole batch, so split and unsplit training must agree.
"""

import numpy as np


def full_prediction_batch(rng, rows, seq_length, predictions, vocab_size):
    """`(inputs, labels, weights)` numpy dicts as `pretraining_dataset` yields them.

    Ids are drawn from `[5, vocab_size)`; segment A is the first half of each
    row; positions `1..predictions` are predicted, all with weight 1.
    """
    half = seq_length // 2
    inputs = {
        "input_word_ids": rng.integers(5, vocab_size, (rows, seq_length)).astype("int32"),
        "input_mask": np.ones((rows, seq_length), "int32"),
        "input_type_ids": np.repeat([[0] * half + [1] * (seq_length - half)], rows, 0).astype("int32"),
        "masked_lm_positions": np.tile(np.arange(1, predictions + 1, dtype="int32"), (rows, 1)),
    }
    labels = {
        "mlm": rng.integers(5, vocab_size, (rows, predictions)).astype("int32"),
        "nsp": rng.integers(0, 2, rows).astype("int32"),
    }
    weights = {"mlm": np.ones((rows, predictions), "float32"), "nsp": np.ones(rows, "float32")}
    return inputs, labels, weights
