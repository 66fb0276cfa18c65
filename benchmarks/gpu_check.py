"""GPU check: pretraining and fine-tuning steps on every visible GPU, against the same steps on the CPU.

    python benchmarks/gpu_check.py                 # BERT-Small shape, seq 128
    python benchmarks/gpu_check.py --model_size=base --batch_size=32

For each configuration (one GPU or MirroredStrategy over all of them; float32,
mixed_float16, mixed_bfloat16; with and without XLA) it runs --steps
training steps of a masked-LM + next-sentence pretrainer and of a sentence
classifier on fixed synthetic batches, all from the same initial weights,
and prints: throughput (sequences/s, after --warmup steps), the last loss
next to the CPU float32 run's, and the GPU's peak memory. Exits with status
2 and a message saying what is missing when TensorFlow sees no GPU (or is
not installed), so it is safe to run anywhere.
"""

import sys
import time

from absl import app, flags

flags.DEFINE_enum("model_size", "small", ["tiny", "small", "base"], "Encoder shape (BERT-Tiny/Small/Base).")
flags.DEFINE_integer("batch_size", 32, "Global batch size.")
flags.DEFINE_integer("seq_length", 128, "Sequence length.")
flags.DEFINE_integer("steps", 20, "Training steps per configuration.")
flags.DEFINE_integer("warmup", 5, "Steps before timing starts.")
flags.DEFINE_list("precisions", ["float32", "mixed_float16", "mixed_bfloat16"], "Keras dtype policies to run.")
FLAGS = flags.FLAGS

SIZES = {"tiny": (2, 128, 2, 512), "small": (4, 512, 8, 2048), "base": (12, 768, 12, 3072)}
VOCAB_SIZE = 30522
PREDICTIONS = 20


def _no_gpu(reason):
    print(f"gpu_check: {reason}. Nothing was run.", file=sys.stderr)
    sys.exit(2)


def _batches(tf, batch_size, seq_length, task):
    """One fixed synthetic batch `(inputs, labels, weights)`, the same on every device."""
    rng = tf.random.Generator.from_seed(0)
    ids = rng.uniform([batch_size, seq_length], 5, VOCAB_SIZE, tf.int32)
    inputs = {"input_word_ids": ids, "input_mask": tf.ones_like(ids),
              "input_type_ids": tf.concat([tf.zeros([batch_size, seq_length // 2], tf.int32),
                                           tf.ones([batch_size, seq_length - seq_length // 2], tf.int32)], 1)}
    if task == "classifier":
        return inputs, rng.uniform([batch_size], 0, 2, tf.int32)
    positions = tf.sort(rng.uniform([batch_size, PREDICTIONS], 1, seq_length - 1, tf.int32), axis=1)
    inputs["masked_lm_positions"] = positions
    labels = {"mlm": tf.gather(ids, positions, batch_dims=1), "nsp": rng.uniform([batch_size], 0, 2, tf.int32)}
    weights = {"mlm": tf.ones([batch_size, PREDICTIONS]), "nsp": tf.ones([batch_size])}
    return inputs, labels, weights


def run_config(keras_bert, tf, strategy, precision, jit_compile, task, initial_weights):
    """`(sequences per second, last loss, peak GPU bytes or None, weights after building)`."""
    import keras

    from keras_bert.training.optimizer import create_optimizer

    layers, hidden, heads, intermediate = SIZES[FLAGS.model_size]
    with strategy.scope():
        encoder = keras_bert.BertEncoder(vocab_size=VOCAB_SIZE, hidden_size=hidden, num_layers=layers,
                                         num_attention_heads=heads, intermediate_size=intermediate,
                                         max_position_embeddings=max(512, FLAGS.seq_length), dtype=precision)
        model = keras_bert.BertPretrainer(encoder) if task == "pretrainer" else keras_bert.BertClassifier(encoder, 2)
        optimizer = create_optimizer(1e-4, total_steps=FLAGS.steps + FLAGS.warmup, warmup_steps=0)
        if task == "pretrainer":
            model.compile(optimizer=optimizer, jit_compile=jit_compile)
        else:
            model.compile(optimizer=optimizer, jit_compile=jit_compile,
                          loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    if initial_weights is None:
        initial_weights = model.get_weights()
    model.set_weights(initial_weights)
    batch = _batches(tf, FLAGS.batch_size, FLAGS.seq_length, task)
    data = tf.data.Dataset.from_tensors(batch).repeat()
    model.fit(data, steps_per_epoch=FLAGS.warmup, epochs=1, verbose=0)
    start = time.perf_counter()
    history = model.fit(data, steps_per_epoch=FLAGS.steps, epochs=1, verbose=0)
    seconds = time.perf_counter() - start
    peak = None
    if tf.config.list_physical_devices("GPU"):
        peak = max(tf.config.experimental.get_memory_info(f"GPU:{i}")["peak"]
                   for i in range(len(tf.config.list_physical_devices("GPU"))))
    return FLAGS.steps * FLAGS.batch_size / seconds, history.history["loss"][-1], peak, initial_weights


def main(argv):
    del argv
    try:
        import tensorflow as tf
    except ImportError:
        _no_gpu(f"TensorFlow is not installed for {sys.executable}; install keras_bert (pip install -e .) there")
    gpus = tf.config.list_physical_devices("GPU")
    if not gpus:
        _no_gpu(f"TensorFlow {tf.__version__} sees no GPU (built with CUDA: {tf.test.is_built_with_cuda()}); "
                "on a GPU machine install TensorFlow's CUDA build (pip install 'tensorflow[and-cuda]')")
    import keras_bert

    print(f"TensorFlow {tf.__version__}, {len(gpus)} GPU(s): "
          + ", ".join(tf.config.experimental.get_device_details(g).get("device_name", g.name) for g in gpus))
    strategies = {"one GPU": tf.distribute.OneDeviceStrategy("/gpu:0")}
    if len(gpus) > 1:
        strategies["mirrored"] = tf.distribute.MirroredStrategy()
    print(f"BERT-{FLAGS.model_size}, batch {FLAGS.batch_size}, seq {FLAGS.seq_length}, {FLAGS.steps} timed steps")
    print(f"{'task':<11} {'strategy':<9} {'precision':<15} {'XLA':<4} {'seq/s':>9} {'loss':>8} {'CPU loss':>8}"
          f" {'peak GiB':>8}")
    for task in ("pretrainer", "classifier"):
        with tf.device("/cpu:0"):
            _, cpu_loss, _, initial = run_config(keras_bert, tf, tf.distribute.OneDeviceStrategy("/cpu:0"),
                                                 "float32", False, task, None)
        for strategy_name, strategy in strategies.items():
            for precision in FLAGS.precisions:
                for jit_compile in (False, True):
                    tf.config.experimental.reset_memory_stats("GPU:0")
                    speed, loss, peak, _ = run_config(keras_bert, tf, strategy, precision, jit_compile, task, initial)
                    print(f"{task:<11} {strategy_name:<9} {precision:<15} {'yes' if jit_compile else 'no':<4}"
                          f" {speed:>9.1f} {loss:>8.4f} {cpu_loss:>8.4f} {peak / 2**30:>8.2f}", flush=True)


if __name__ == "__main__":
    app.run(main)
