"""Scores a raw-text classifier SavedModel (or TFLite file) on a labelled TSV/CSV, importing only TensorFlow.

    python examples/score_saved_model.py --saved_model=/tmp/sst2_savedmodel \
        --input_file=examples/data/sst2/dev.tsv
    python examples/score_saved_model.py --tflite_file=/tmp/sst2.tflite \
        --input_file=examples/data/sst2/dev.tsv

Shows what a serving process sees: the SavedModel from export_saved_model.py is
loaded with tf.saved_model.load, with tensorflow_text for its ops and nothing of
keras_bert (a .tflite file with TFLite's interpreter and tensorflow_text's
kernels registered); rows are sent as raw strings and the served `label` is
compared with the file's label column. Prints accuracy and rows/s, and writes served
labels with --output_file.
"""

import csv
import sys
import time

from absl import app, flags

flags.DEFINE_string("saved_model", None, "A classifier exported by export_saved_model.py.")
flags.DEFINE_string("tflite_file", None, "Instead: a classifier written by export_saved_model.py --tflite_file.")
flags.DEFINE_string("input_file", None, "A .tsv or .csv file with a header row.")
flags.DEFINE_string("text_column", "sentence", "Column of the (first) text.")
flags.DEFINE_string("text_b_column", None, "Column of the second text, for pair models.")
flags.DEFINE_string("label_column", "label", "Column of the expected label.")
flags.DEFINE_integer("batch_size", 64, "Rows per serving call.", lower_bound=1)
flags.DEFINE_string("output_file", None, "Optional: one served label per row.")
flags.mark_flags_as_required(["input_file"])
flags.mark_flags_as_mutual_exclusive(["saved_model", "tflite_file"], required=True)
FLAGS = flags.FLAGS


def main(argv):
    del argv
    import numpy as np
    import tensorflow as tf
    import tensorflow_text  # noqa: F401 (registers the tokenizer ops the SavedModel uses)

    try:
        with open(FLAGS.input_file, encoding="utf-8-sig", newline="") as f:
            rows = list(csv.DictReader(f, delimiter="\t" if FLAGS.input_file.endswith(".tsv") else ",",
                                       quoting=csv.QUOTE_NONE if FLAGS.input_file.endswith(".tsv") else
                                       csv.QUOTE_MINIMAL))
        columns = [c for c in (FLAGS.text_column, FLAGS.text_b_column, FLAGS.label_column) if c]
        missing = [c for c in columns if rows and c not in rows[0]]
        if not rows or missing:
            raise ValueError(f"{FLAGS.input_file}: " + (f"no column(s) {missing}; set --text_column/--label_column"
                                                        if rows else "no rows"))
        if FLAGS.tflite_file:
            serve = _tflite_runner(FLAGS.tflite_file)
        else:
            serve = tf.saved_model.load(FLAGS.saved_model).signatures["serving_default"]
    except (OSError, ValueError) as e:
        sys.exit(f"score_saved_model.py: {e}")

    served = []
    for start in range(0, len(rows), FLAGS.batch_size):
        if start == FLAGS.batch_size:  # the first call sets the graph up: not timed
            timed_from = time.perf_counter()
        batch = rows[start : start + FLAGS.batch_size]
        if FLAGS.text_b_column:
            out = serve(text_a=tf.constant([r[FLAGS.text_column] for r in batch]),
                        text_b=tf.constant([r[FLAGS.text_b_column] for r in batch]))
        else:
            out = serve(text=tf.constant([r[FLAGS.text_column] for r in batch]))
        served += [label.decode() for label in np.asarray(out["label"])]
    speed = ""
    if len(rows) > FLAGS.batch_size:
        speed = f" ({(len(rows) - FLAGS.batch_size) / (time.perf_counter() - timed_from):.1f} rows/s after the first batch)"
    correct = sum(label == row[FLAGS.label_column] for label, row in zip(served, rows))
    if FLAGS.output_file:
        with open(FLAGS.output_file, "w", encoding="utf-8") as f:
            f.writelines(label + "\n" for label in served)
    assert "keras_bert" not in sys.modules
    print(f"{FLAGS.input_file} ({len(rows)} rows) through {FLAGS.saved_model or FLAGS.tflite_file}: "
          f"accuracy = {correct / len(rows):.4f}{speed}")


def _tflite_runner(path):
    """The file's serving_default signature, taking tf.constant strings like a SavedModel's."""
    import numpy as np
    import tensorflow_text as tf_text
    from tensorflow.lite.python.interpreter import InterpreterWithCustomOps

    with open(path, "rb") as f:  # a clear OSError when missing
        content = f.read()
    runner = InterpreterWithCustomOps(
        model_content=content, custom_op_registerers=tf_text.tflite_registrar.SELECT_TFTEXT_OPS
    ).get_signature_runner()
    return lambda **texts: runner(**{k: np.asarray(v.numpy(), dtype=bytes) for k, v in texts.items()})


if __name__ == "__main__":
    app.run(main)
