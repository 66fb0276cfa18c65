"""Gradient accumulation: N micro-batches per update equal one update on the N-times batch."""

import keras
import numpy as np
import tensorflow as tf

from keras_bert import BertEncoder, BertPretrainer
from keras_bert.training import create_optimizer
from pretraining_batches import full_prediction_batch

UPDATES, MICRO, ACCUMULATION = 3, 2, 4


def _pretrainer(accumulation):
    keras.utils.set_random_seed(0)  # same initial weights every time
    encoder = BertEncoder(vocab_size=40, hidden_size=16, num_layers=2, num_attention_heads=2, intermediate_size=24,
                          hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0, max_position_embeddings=16)
    pretrainer = BertPretrainer(encoder)
    pretrainer.compile(optimizer=create_optimizer(
        1e-2, total_steps=UPDATES, warmup_steps=1, gradient_accumulation_steps=accumulation
    ))
    return pretrainer


def _train(data, batch_size, accumulation):
    pretrainer = _pretrainer(accumulation)
    pretrainer.fit(tf.data.Dataset.from_tensor_slices(data).batch(batch_size), epochs=1, shuffle=False, verbose=0)
    return pretrainer


def test_accumulated_updates_equal_large_batch_updates():
    data = full_prediction_batch(np.random.default_rng(0), UPDATES * MICRO * ACCUMULATION, 12, 4, 40)
    large = _train(data, MICRO * ACCUMULATION, accumulation=1)
    accumulated = _train(data, MICRO, accumulation=ACCUMULATION)
    initial = _pretrainer(1)
    assert int(large.optimizer.iterations) == int(accumulated.optimizer.iterations) == UPDATES
    moved = 0
    for a, b, start in zip(large.weights, accumulated.weights, initial.weights):
        np.testing.assert_allclose(np.asarray(b), np.asarray(a), atol=2e-6, err_msg=a.path)
        moved += not np.allclose(np.asarray(a), np.asarray(start), atol=1e-4)
    assert moved > len(large.weights) // 2  # training did change the weights


def test_accumulation_without_the_schedule_fix_would_differ():
    """The schedule counts updates: at update k the rate is the large batch's rate at k."""
    optimizer = create_optimizer(1.0, total_steps=10, warmup_steps=2, gradient_accumulation_steps=4)
    schedule = optimizer._learning_rate
    # Keras calls the schedule with the micro-batch count; the update at
    # micro-batch 4k + 3 must use the rate of update k.
    assert [float(schedule(4 * k + 3)) for k in range(4)] == [0.0, 0.5, 1.0, 0.875]
