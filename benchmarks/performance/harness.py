"""The timing harness: interleaved rounds, random batches, model sizes and a dtype-policy scope."""

import statistics
import time

# name -> (layers, hidden, heads, intermediate)
SIZES = {"BERT-Base": (12, 768, 12, 3072), "BERT-Small": (4, 512, 8, 2048), "BERT-Tiny": (2, 128, 2, 512)}
VOCAB_SIZE = 30522


def timed_rounds(configs, warmup, repeats):
    """Seconds per round for each config, interleaved: `{name: median seconds}`.

    Each pass starts one config later than the last, so no config always
    runs right after the same other one.

    Args:
        configs: `{name: zero-argument callable doing one round}`.
    """
    for run in configs.values():
        for _ in range(warmup):
            run()
    names = list(configs)
    times = {name: [] for name in configs}
    for round_index in range(repeats):
        shift = round_index % len(names)
        for name in names[shift:] + names[:shift]:
            start = time.perf_counter()
            configs[name]()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) for name, t in times.items()}


def random_batch(batch, seq, predictions=0, seed=0):
    import numpy as np

    rng = np.random.default_rng(seed)
    batch_data = {
        "ids": rng.integers(1000, VOCAB_SIZE, (batch, seq)).astype("int32"),
        "segments": np.concatenate([np.zeros((batch, seq // 2)), np.ones((batch, seq - seq // 2))], 1).astype("int32"),
        "mask": np.ones((batch, seq), "int32"),
    }
    if predictions:
        batch_data["positions"] = np.sort(rng.permuted(np.tile(np.arange(1, seq), (batch, 1)), axis=1)[:, :predictions])
        batch_data["labels"] = rng.integers(1000, VOCAB_SIZE, (batch, predictions)).astype("int32")
        batch_data["positions"] = batch_data["positions"].astype("int32")
    return batch_data


class Policy:
    """Builds Keras models under a dtype policy (`mixed_bfloat16`), then restores float32."""

    def __init__(self, name):
        self.name = name

    def __enter__(self):
        import keras

        keras.mixed_precision.set_global_policy(self.name)

    def __exit__(self, *exc):
        import keras

        keras.mixed_precision.set_global_policy("float32")
