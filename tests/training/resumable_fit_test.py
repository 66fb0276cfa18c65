"""A run stopped at a checkpoint and resumed ends with the weights of a run that never stopped."""

import keras
import numpy as np
import tensorflow as tf

from keras_bert import BertEncoder, BertPretrainer
from keras_bert.training import create_optimizer, resumable_fit
from pretraining_batches import full_prediction_batch

TOTAL_STEPS, BATCH = 6, 4


def _train(run_dir, stop_at):
    """Builds and trains a small pretrainer (dropout on) in `run_dir` up to step `stop_at`.

    Every call starts the way a fresh process would: the same global seed,
    a new model, and whatever checkpoint `run_dir` already holds.
    """
    keras.utils.set_random_seed(0)
    encoder = BertEncoder(vocab_size=60, hidden_size=16, num_layers=2, num_attention_heads=2,
                          intermediate_size=32, max_position_embeddings=16)
    model = BertPretrainer(encoder)
    model.compile(optimizer=create_optimizer(1e-3, total_steps=TOTAL_STEPS, warmup_steps=1))
    data = full_prediction_batch(np.random.default_rng(0), TOTAL_STEPS * BATCH, 16, 5, 60)
    dataset = tf.data.Dataset.from_tensor_slices(data).batch(BATCH).repeat()
    resumable_fit(model, dataset.skip, str(run_dir), stop_at, steps_per_loop=2, save_checkpoints_steps=2)
    return [np.asarray(w) for w in model.weights]


def test_resumed_run_equals_the_uninterrupted_run(tmp_path):
    straight = _train(tmp_path / "straight", TOTAL_STEPS)
    _train(tmp_path / "resumed", 2)  # stops after its step-2 checkpoint, as a kill would
    resumed = _train(tmp_path / "resumed", TOTAL_STEPS)
    # Same batches, optimizer state and dropout masks from step 3 on: equal up
    # to float round-off. Replayed dropout masks move weights by up to ~2e-3.
    for a, b in zip(straight, resumed):
        np.testing.assert_allclose(b, a, atol=1e-6)
