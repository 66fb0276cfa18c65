"""Fine-tunes BERT for named-entity recognition on CoNLL-2003 style files.

    python examples/run_ner.py --train_file=../shared/data/conll2003/train.txt \
        --eval_file=../shared/data/conll2003/valid.txt --output_dir=/tmp/ner

Each word's tag sits on its first WordPiece; long sentences are split into
several windows, never dropped. Reports entity-level precision, recall and F1
by the CoNLL rules, writes OUTPUT_DIR/eval_results.json, the model, and
predictions as `word gold predicted` lines (--do_predict: --test_file's as
OUTPUT_DIR/test_predictions.txt). --feature_based trains the paper's
feature-based tagger instead (frozen encoder, last four layers concatenated,
two-layer BiLSTM). --evaluation_strategy=epoch keeps the epoch with the best
dev F1; --nodo_train scores the model trained before in --output_dir.
"""

import json
import os
import sys

from absl import app, flags

import common_flags

common_flags.define_fine_tuning_flags("/tmp/keras_bert_ner", num_train_epochs=2.0)
flags.DEFINE_string("train_file", None, "CoNLL file to train on (--do_train).")
flags.DEFINE_string("eval_file", None, "CoNLL file to evaluate on (--do_eval).")
flags.DEFINE_string("test_file", None, "CoNLL file to predict (--do_predict); scored too.")
flags.DEFINE_bool("feature_based", False, "Frozen encoder + BiLSTM on the last four layers (use --learning_rate=1e-3).")
flags.DEFINE_integer("num_feature_layers", 4, "--feature_based: how many top layers feed the BiLSTM.", lower_bound=1)
flags.DEFINE_enum("feature_combine", "concat", ["concat", "sum"], "--feature_based: concatenate or sum those layers.")
flags.DEFINE_integer("lstm_units", 384, "--feature_based: units per direction of each BiLSTM layer.", lower_bound=1)
flags.DEFINE_integer("max_train_examples", None, "Train on the first N sentences only (learning curves, quick runs).",
                     lower_bound=1)
FLAGS = flags.FLAGS
# Library arguments -> this script's flags, for error messages.
_FLAG_NAMES = {"seq_length": "max_seq_length"}
_METRICS = ("f1", "precision", "recall")  # the headline (best-model) metric first


def main(argv):
    del argv
    import keras

    import keras_bert
    from keras_bert.data import read_conll, token_classification_dataset, token_classification_features
    from keras_bert.text import BertTokenizer
    from keras_bert.training import compile_tagger, distribution, fit_for_steps, training_steps

    keras.utils.set_random_seed(FLAGS.seed)
    try:
        common_flags.check_run_files(FLAGS, do_train="train_file", do_eval="eval_file", do_predict="test_file")
        if FLAGS.feature_based and FLAGS.lora_rank:
            raise ValueError("--feature_based freezes the encoder that --lora_rank would adapt; pass one of them.")
        evaluations = {}
        if FLAGS.do_eval:
            evaluations["eval"] = read_conll(FLAGS.eval_file)
        if FLAGS.do_predict:
            evaluations["test"] = read_conll(FLAGS.test_file)
        seq_length = FLAGS.max_seq_length
        strategy = common_flags.strategy_from_flags(FLAGS)
        if FLAGS.do_train:
            train = read_conll(FLAGS.train_file)
            if FLAGS.max_train_examples:
                train = train.first(FLAGS.max_train_examples)
            # O first, then the entity tags in a fixed order.
            label_names = ["O"] + sorted({t for s in train.tags for t in s} - {"O"})
            encoder, vocab_file, lower_case = common_flags.load_encoder(
                FLAGS.init_checkpoint, FLAGS.vocab_file, seq_length, strategy, FLAGS.random_init,
                FLAGS.gradient_checkpointing, do_lower_case=FLAGS.do_lower_case,
            )
        else:
            with strategy.scope():
                model, settings = common_flags.load_trained_model(FLAGS.output_dir)
            label_names, lower_case = settings["label_names"], settings["lower_case"]
            vocab_file, seq_length = os.path.join(FLAGS.output_dir, "vocab.txt"), settings["max_seq_length"]
        tokenizer = BertTokenizer(vocab_file, lower_case=lower_case)
        features = {name: token_classification_features(data, tokenizer, label_names, seq_length)
                    for name, data in evaluations.items()}
        common_flags.make_output_dir(FLAGS.output_dir)
        if FLAGS.do_train:
            train_features = token_classification_features(train, tokenizer, label_names, seq_length)
            num_windows = len(train_features["labels"])
            steps = training_steps(num_windows, FLAGS.train_batch_size, FLAGS.num_train_epochs,
                                   FLAGS.warmup_proportion)
            evaluation = common_flags.dev_evaluation(
                FLAGS, lambda model: _score(model, evaluations["eval"], features["eval"], label_names)[0],
                steps, _METRICS)
    except (ImportError, OSError, ValueError) as e:
        sys.exit(f"run_ner.py: {common_flags.with_flag_names(e, _FLAG_NAMES)}")

    # Other workers of a multi-worker run train and score alongside the chief, writing to a scratch folder.
    output_dir = distribution.writable_dir(strategy, FLAGS.output_dir)
    if FLAGS.do_train:
        print(f"{len(train):,} training sentences -> {num_windows:,} windows of at most {seq_length} pieces; "
              f"tags: {' '.join(label_names)}")
        with strategy.scope():
            if FLAGS.feature_based:
                model = keras_bert.models.BertFeatureTagger(
                    encoder, len(label_names), FLAGS.num_feature_layers, FLAGS.feature_combine, FLAGS.lstm_units
                )
            else:
                model = keras_bert.BertTokenClassifier(encoder, len(label_names))
            common_flags.enable_lora_from_flags(model, FLAGS, strategy)
            compile_tagger(model, FLAGS.learning_rate, steps.total_steps, steps.warmup_steps,
                           jit_compile=FLAGS.jit_compile)
        train_data = token_classification_dataset(train_features, FLAGS.train_batch_size, shuffle=True,
                                                  seed=FLAGS.seed)
        resume = common_flags.resume_options(FLAGS.output_dir, FLAGS.save_checkpoints_steps)
        seconds = fit_for_steps(model, train_data.repeat(), steps, evaluation=evaluation, **resume)
        print(f"Trained in {seconds:.0f} s.")
        common_flags.save_model(model, output_dir, "tagger.keras")
        common_flags.save_serving_settings(output_dir, vocab_file, "tagger.keras", "ner", lower_case,
                                           seq_length, label_names=label_names)

    results = common_flags.best_evaluation_results(evaluation) if FLAGS.do_train else {}
    for name, data in evaluations.items():
        scores, predicted = _score(model, data, features[name], label_names)
        prefix = "" if name == "eval" else "test_"
        results.update({prefix + key: value for key, value in scores.items()})
        print(f"{name} ({os.path.basename(data.source)}, {len(data):,} sentences): "
              + ", ".join(f"{key} = {value:.4f}" for key, value in scores.items()))
        with open(os.path.join(output_dir, f"{name}_predictions.txt"), "w", encoding="utf-8") as f:
            for words, gold, guess in zip(data.words, data.tags, predicted):
                f.writelines(f"{w} {g} {p}\n" for w, g, p in zip(words, gold, guess))
                f.write("\n")
    if evaluations:
        with open(os.path.join(output_dir, "eval_results.json"), "w") as f:
            json.dump(results, f, indent=2)


def _score(model, sentences, features, label_names):
    """`(CoNLL scores, predicted tags per sentence)` of the tagger on `sentences`."""
    from keras_bert.data import token_classification_dataset, word_predictions
    from keras_bert.metrics import conll_scores
    from keras_bert.training import predict_logits

    logits = predict_logits(model, token_classification_dataset(features, FLAGS.eval_batch_size))
    predicted = [[label_names[i] for i in sentence] for sentence in word_predictions(features, logits, sentences)]
    return conll_scores(sentences.tags, predicted), predicted


if __name__ == "__main__":
    app.run(main)
