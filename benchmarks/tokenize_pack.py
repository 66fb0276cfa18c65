"""Tokenize + pack throughput: keras_bert (tf.data, in-graph) vs HF `tokenizers` (Rust).

    python benchmarks/tokenize_pack.py --lines=100000

Both run on the same Wikipedia lines with the same vocab.txt, in one process,
alternating, and report the median of --repeats timed passes after a warm-up.
Only the ratio means something on a shared machine. Writes a Markdown table
to stdout and JSON to --output_json.
"""

import json
import statistics
import time

from absl import app, flags

flags.DEFINE_string("wiki_files", "../shared/data/wiki/wiki_*", "Globs of WikiExtractor files.")
flags.DEFINE_integer("lines", 100_000, "Lines to tokenize.")
flags.DEFINE_integer("seq_length", 128, "Packed length.")
flags.DEFINE_integer("batch_size", 256, "Lines per batch.")
flags.DEFINE_integer("repeats", 3, "Timed passes per library.")
flags.DEFINE_string("output_json", None, "Optional path for the results.")
FLAGS = flags.FLAGS


def main(argv):
    del argv
    import tensorflow as tf
    import tokenizers

    from keras_bert.checkpoints import default_checkpoint_path
    from keras_bert.data import expand_file_patterns, text_lines_dataset
    from keras_bert.text import BertPreprocessor

    vocab_file = f"{default_checkpoint_path()}/vocab.txt"
    lines = [
        line.decode("utf-8")
        for line in text_lines_dataset(expand_file_patterns(FLAGS.wiki_files)).take(FLAGS.lines).as_numpy_iterator()
    ]
    preprocessor = BertPreprocessor(vocab_file, FLAGS.seq_length)
    dataset = (
        tf.data.Dataset.from_tensor_slices(lines)
        .batch(FLAGS.batch_size)
        .map(preprocessor, num_parallel_calls=tf.data.AUTOTUNE)
        .prefetch(tf.data.AUTOTUNE)
    )
    reference = tokenizers.BertWordPieceTokenizer(vocab_file, lowercase=True)
    reference.enable_truncation(FLAGS.seq_length)
    reference.enable_padding(length=FLAGS.seq_length)

    def run_ours():
        for _ in dataset:
            pass

    def run_hf():
        for start in range(0, len(lines), FLAGS.batch_size):
            reference.encode_batch(lines[start : start + FLAGS.batch_size])

    runs = {"keras_bert (tf.data)": run_ours, "HF tokenizers (Rust)": run_hf}
    times = {name: [] for name in runs}
    for name, run in runs.items():
        run()  # warm-up: traces the graph, fills caches
    for _ in range(FLAGS.repeats):
        for name, run in runs.items():
            start = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - start)
    rates = {name: len(lines) / statistics.median(t) for name, t in times.items()}
    best_peer = rates["HF tokenizers (Rust)"]
    print(f"Tokenize + pack {len(lines):,} Wikipedia lines to seq {FLAGS.seq_length}, "
          f"median of {FLAGS.repeats}:\n")
    print("| library | lines/s | ratio to HF |\n|---|---|---|")
    for name, rate in rates.items():
        print(f"| {name} | {rate:,.0f} | {rate / best_peer:.2f}x |")
    if FLAGS.output_json:
        with open(FLAGS.output_json, "w") as f:
            json.dump({"lines": len(lines), "lines_per_second": rates}, f, indent=2)


if __name__ == "__main__":
    app.run(main)
