"""A few pretraining steps under a strategy; run as its own process by distribution_test.py.

    python distributed_run.py STRATEGY OUTPUT.npz

STRATEGY: one_device, mirrored (over 2 logical CPUs), or multi_worker_mirrored
(TF_CONFIG set by the caller). Writes the per-step losses and final weights.
"""

import sys

from keras_bert.training import distribution

STEPS, GLOBAL_BATCH = 4, 8


def main(strategy_name, output):
    if strategy_name == "mirrored":
        distribution.split_cpu(2)  # before TensorFlow touches a device
    import keras
    import numpy as np
    import tensorflow as tf

    from keras_bert import BertEncoder, BertPretrainer
    from keras_bert.training import create_optimizer
    from pretraining_batches import full_prediction_batch

    strategy = distribution.get_strategy(strategy_name)
    # A different global batch each step, so a skipped or repeated batch shows, and rows with uneven numbers of
    # real predictions (weight 0 elsewhere), so per-replica means would differ from the global mean.
    rng = np.random.default_rng(0)
    data = full_prediction_batch(rng, GLOBAL_BATCH * STEPS, 16, 5, 60)
    data[2]["mlm"] *= (np.arange(5) < rng.integers(1, 6, (GLOBAL_BATCH * STEPS, 1))).astype("float32")
    dataset = tf.data.Dataset.from_tensor_slices(data).batch(GLOBAL_BATCH)
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    dataset = dataset.with_options(options)
    with strategy.scope():
        keras.utils.set_random_seed(0)
        encoder = BertEncoder(vocab_size=60, hidden_size=16, num_layers=2, num_attention_heads=2,
                              intermediate_size=32, max_position_embeddings=16,
                              hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
        pretrainer = BertPretrainer(encoder)
        # clipnorm 0.1: below these gradients' norms, so every step clips (the summed gradient, as one device does).
        pretrainer.compile(optimizer=create_optimizer(1e-3, total_steps=STEPS, warmup_steps=1, clipnorm=0.1))
    history = pretrainer.fit(dataset.repeat(), epochs=STEPS, steps_per_epoch=1, shuffle=False, verbose=0)
    np.savez(
        output,
        losses=np.array(history.history["loss"]),
        replicas=strategy.num_replicas_in_sync,
        **{f"w{i}": np.asarray(w) for i, w in enumerate(pretrainer.weights)},
    )


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
