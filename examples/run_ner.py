"""Fine-tunes BERT for named-entity recognition on CoNLL-2003 style files.

    python examples/run_ner.py --train_file=../shared/data/conll2003/train.txt \
        --eval_file=../shared/data/conll2003/valid.txt --output_dir=/tmp/ner

Each word's tag sits on its first WordPiece; long sentences are split into
several windows, never dropped. Reports entity-level precision, recall and F1
by the CoNLL rules, writes OUTPUT_DIR/eval_results.json, the model, and
predictions as `word gold predicted` lines. --feature_based trains the paper's
feature-based tagger instead (frozen encoder, last four layers concatenated,
two-layer BiLSTM).
"""

import json
import os
import sys

from absl import app, flags

import common_flags

common_flags.define_fine_tuning_flags("/tmp/keras_bert_ner", num_train_epochs=2.0)
flags.DEFINE_string("train_file", None, "CoNLL file to train on.")
flags.DEFINE_string("eval_file", None, "CoNLL file to evaluate on.")
flags.DEFINE_string("test_file", None, "Optional CoNLL file to predict and score.")
flags.DEFINE_integer("eval_batch_size", 64, "", lower_bound=1)
flags.DEFINE_bool("feature_based", False, "Frozen encoder + BiLSTM on the last four layers (use --learning_rate=1e-3).")
flags.DEFINE_integer("num_feature_layers", 4, "--feature_based: how many top layers feed the BiLSTM.", lower_bound=1)
flags.DEFINE_enum("feature_combine", "concat", ["concat", "sum"], "--feature_based: concatenate or sum those layers.")
flags.DEFINE_integer("lstm_units", 384, "--feature_based: units per direction of each BiLSTM layer.", lower_bound=1)
flags.DEFINE_integer("max_train_examples", None, "Train on the first N sentences only (learning curves, quick runs).",
                     lower_bound=1)
flags.mark_flags_as_required(["train_file", "eval_file"])
FLAGS = flags.FLAGS
# Library arguments -> this script's flags, for error messages.
_FLAG_NAMES = {"seq_length": "max_seq_length"}


def main(argv):
    del argv
    import keras

    import keras_bert
    from keras_bert.data import (
        read_conll,
        token_classification_dataset,
        token_classification_features,
        word_predictions,
    )
    from keras_bert.metrics import conll_scores
    from keras_bert.text import BertTokenizer
    from keras_bert.training import compile_tagger, fit_for_steps, predict_logits, training_steps

    keras.utils.set_random_seed(FLAGS.seed)
    try:
        train = read_conll(FLAGS.train_file)
        if FLAGS.max_train_examples:
            train = train.first(FLAGS.max_train_examples)
        evaluations = {"eval": read_conll(FLAGS.eval_file)}
        if FLAGS.test_file:
            evaluations["test"] = read_conll(FLAGS.test_file)
        # O first, then the entity tags in a fixed order.
        label_names = ["O"] + sorted({t for s in train.tags for t in s} - {"O"})
        strategy = common_flags.strategy_from_flags(FLAGS)
        encoder, vocab_file, lower_case = common_flags.load_encoder(
            FLAGS.init_checkpoint, FLAGS.vocab_file, FLAGS.max_seq_length, strategy, FLAGS.random_init,
            FLAGS.gradient_checkpointing, do_lower_case=FLAGS.do_lower_case,
        )
        tokenizer = BertTokenizer(vocab_file, lower_case=lower_case)
        seq_length = FLAGS.max_seq_length
        train_features = token_classification_features(train, tokenizer, label_names, seq_length)
        eval_features = {
            name: token_classification_features(data, tokenizer, label_names, seq_length)
            for name, data in evaluations.items()
        }
        common_flags.make_output_dir(FLAGS.output_dir)
    except (ImportError, OSError, ValueError) as e:
        sys.exit(f"run_ner.py: {common_flags.with_flag_names(e, _FLAG_NAMES)}")

    num_windows = len(train_features["labels"])
    print(f"{len(train):,} training sentences -> {num_windows:,} windows of at most {seq_length} pieces; "
          f"tags: {' '.join(label_names)}")
    steps = training_steps(num_windows, FLAGS.train_batch_size, FLAGS.num_train_epochs, FLAGS.warmup_proportion)
    with strategy.scope():
        if FLAGS.feature_based:
            model = keras_bert.models.BertFeatureTagger(
                encoder, len(label_names), FLAGS.num_feature_layers, FLAGS.feature_combine, FLAGS.lstm_units
            )
        else:
            model = keras_bert.BertTokenClassifier(encoder, len(label_names))
        compile_tagger(model, FLAGS.learning_rate, steps.total_steps, steps.warmup_steps,
                       jit_compile=FLAGS.jit_compile)
    train_data = token_classification_dataset(train_features, FLAGS.train_batch_size, shuffle=True, seed=FLAGS.seed)
    resume = common_flags.resume_options(FLAGS.output_dir, FLAGS.save_checkpoints_steps)
    print(f"Trained in {fit_for_steps(model, train_data.repeat(), steps, **resume):.0f} s.")
    model.save(os.path.join(FLAGS.output_dir, "tagger.keras"))
    common_flags.save_serving_settings(FLAGS.output_dir, vocab_file, "tagger.keras", "ner", lower_case,
                                       seq_length, label_names=label_names)

    results = {}
    for name, data in evaluations.items():
        features = eval_features[name]
        logits = predict_logits(model, token_classification_dataset(features, FLAGS.eval_batch_size))
        predicted = [[label_names[i] for i in sentence] for sentence in word_predictions(features, logits, data)]
        scores = conll_scores(data.tags, predicted)
        prefix = "" if name == "eval" else "test_"
        results.update({prefix + key: value for key, value in scores.items()})
        print(f"{name} ({os.path.basename(data.source)}, {len(data):,} sentences): "
              + ", ".join(f"{key} = {value:.4f}" for key, value in scores.items()))
        with open(os.path.join(FLAGS.output_dir, f"{name}_predictions.txt"), "w", encoding="utf-8") as f:
            for words, gold, guess in zip(data.words, data.tags, predicted):
                f.writelines(f"{w} {g} {p}\n" for w, g, p in zip(words, gold, guess))
                f.write("\n")
    with open(os.path.join(FLAGS.output_dir, "eval_results.json"), "w") as f:
        json.dump(results, f, indent=2)


if __name__ == "__main__":
    app.run(main)
