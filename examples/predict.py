"""Predicts a file with a model fine-tuned by run_classifier.py, run_ner.py or run_squad.py, or its SavedModel.

    python examples/predict.py --model_dir=/tmp/keras_bert_classifier \
        --input_file=../shared/data/glue/sst2/dev.tsv --output_file=/tmp/sst2_dev.jsonl
    python examples/predict.py --saved_model=/tmp/sst2_savedmodel --input_file=reviews.csv \
        --text_a_column=review --output_file=/tmp/reviews_predicted.csv
    python examples/predict.py --model_dir=/tmp/ner --input_file=news.txt --output_file=/tmp/news_tags.jsonl
    python examples/predict.py --model_dir=/tmp/squad --input_file=../shared/data/squad/dev.json \
        --output_file=/tmp/squad/predictions.json

--model_dir is a fine-tuning script's --output_dir (the .keras model, vocab.txt and
serving.json); predictions are made as that script scores its dev set, so they
reproduce its evaluation. --saved_model is a directory export_saved_model.py wrote,
served through its raw-text signature (what TF Serving would answer).

By task (from serving.json, or the SavedModel's signature):
- Sentence(-pair) classifiers read .tsv, .csv (header rows) or .jsonl (one object
  a line) files; no label column is needed. The texts are in --text_a_column
  (default `sentence`; `sentence1` for pair models) and --text_b_column (default
  `sentence2` for pair models). A .tsv file without those columns in one of the
  GLUE task's official layouts (test, dev or train, e.g. CoLA's headerless dev.tsv
  or MRPC's) is read as it is when neither flag is given (--task names the task
  for a SavedModel). The output has, per row in input order, the label as the
  training data spells it and each label's probability (a score for regression):
  .jsonl `{"label": ..., "probabilities": {label: p}}` (`{"score": s}`), .tsv/.csv
  columns `label, probability_LABEL...` (`score`).
- NER taggers read raw text lines (words split on whitespace) or CoNLL files
  (`word ...` lines, blank lines between sentences; --input_format, detected by
  default) and write CoNLL `word tag` lines (.txt, .conll) or .jsonl, one object per
  line or sentence: `{"text": ..., "tokens": [{"word", "start", "end", "tag"}]}`,
  start/end character offsets into the text (a CoNLL sentence's text is its words
  joined by spaces).
- SQuAD models read SQuAD JSON and write --output_file as predictions.json
  (question id -> answer), and for SQuAD v2.0 models null_odds.json beside it,
  with serving.json's null-score threshold, as run_squad.py writes them.

--saved_model serves what the SavedModel was exported with: a SQuAD model answers with
its exported null-score threshold but writes no null_odds.json, and a tagger's words
past its --max_seq_length pieces get `O` (--model_dir tags long sentences in windows).

Files are read and predicted --chunk_size rows at a time, with a progress line on
stderr; the output appears under its name once complete.
"""

import os
import sys
import time

from absl import app, flags

import common_flags

flags.DEFINE_string("model_dir", None, "A fine-tuning script's --output_dir, after training.")
flags.DEFINE_string("saved_model", None, "Instead: a SavedModel directory from export_saved_model.py.")
flags.DEFINE_string("input_file", None, "The file to predict: .tsv/.csv/.jsonl (classifiers), text or CoNLL (NER), "
                    "SQuAD .json.")
flags.DEFINE_string("output_file", None, "Where predictions go: .jsonl/.tsv/.csv (classifiers), .txt/.conll/.jsonl "
                    "(NER), .json (SQuAD; null_odds.json beside it for v2.0).")
flags.DEFINE_string("text_a_column", None, "Classifiers: column (JSONL key) of the (first) text. Default: sentence, "
                    "or sentence1 for pair models.")
flags.DEFINE_string("text_b_column", None, "Classifiers: column of the second text. Default for pair models: "
                    "sentence2.")
flags.DEFINE_string("task", None, "Classifiers: the GLUE task whose official .tsv layouts to read as is (default: "
                    "the model's task, from serving.json).")
flags.DEFINE_enum("input_format", "auto", ["auto", "text", "conll"], "NER: raw text lines, or CoNLL; auto detects "
                  "CoNLL by -DOCSTART- or blank lines between lines of equal column counts.")
flags.DEFINE_integer("batch_size", 64, "Examples (windows) per model call.", lower_bound=1)
flags.DEFINE_integer("chunk_size", 10000, "Rows read and predicted at a time.", lower_bound=1)
flags.DEFINE_integer("n_best_size", 20, "SQuAD, --model_dir: start/end candidates per window.", lower_bound=1)
flags.mark_flags_as_required(["input_file", "output_file"])
flags.mark_flags_as_mutual_exclusive(["model_dir", "saved_model"], required=True)
FLAGS = flags.FLAGS


def main(argv):
    del argv
    try:
        # The cheap checks first: a wrong path fails before TensorFlow loads.
        settings = common_flags.read_serving_settings(FLAGS.model_dir, "--model_dir") if FLAGS.model_dir else None
        if not os.path.isfile(FLAGS.input_file):
            raise FileNotFoundError(f"--input_file={FLAGS.input_file}: no such file.")
        from keras_bert.training.file_prediction import (SavedModelPredictor, TrainedModelPredictor,
                                                         check_prediction_files, predict_file, task_kind)

        if settings is not None:
            check_prediction_files(task_kind(settings["task"]), FLAGS.input_file, FLAGS.output_file)
            model, settings = common_flags.load_trained_model(FLAGS.model_dir, "--model_dir")
            predictor = TrainedModelPredictor(model, settings, os.path.join(FLAGS.model_dir, "vocab.txt"),
                                              FLAGS.batch_size, FLAGS.n_best_size)
            source = f"the {settings['task']} model in {FLAGS.model_dir}"
        else:
            predictor = SavedModelPredictor(FLAGS.saved_model, FLAGS.batch_size)
            source = f"the {predictor.kind} SavedModel {FLAGS.saved_model}"
        print(f"Predicting {FLAGS.input_file} with {source}.")
        start = time.perf_counter()
        summary = predict_file(predictor, FLAGS.input_file, FLAGS.output_file, FLAGS.chunk_size, FLAGS.text_a_column,
                               FLAGS.text_b_column, FLAGS.task, FLAGS.input_format)
    except (OSError, ValueError) as e:
        sys.exit(f"predict.py: {e}")
    except KeyError as e:
        sys.exit(f"predict.py: {FLAGS.model_dir}/serving.json has no {e}; retrain, or fix the file.")
    print(f"{summary['rows']:,} {summary['unit']} ({summary['input']}) in {time.perf_counter() - start:.1f} s -> "
          + ", ".join(summary["written"]))


if __name__ == "__main__":
    app.run(main)
