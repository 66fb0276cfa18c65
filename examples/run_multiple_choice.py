"""Fine-tunes BERT on SWAG-format multiple choice and reports accuracy.

    python examples/run_multiple_choice.py --train_file=swag/train.csv \
        --eval_file=swag/val.csv --output_dir=/tmp/swag

CSV columns: sent1 (context), sent2 (start of the ending), ending0..ending3,
label (0-3). Each (sent1, sent2 + ending) pair is packed and scored; a softmax
over the four scores is trained. Writes OUTPUT_DIR/eval_results.json
(accuracy) and the model; --do_predict --test_file=test.csv (no label needed)
writes OUTPUT_DIR/test_predictions.csv (label, then each ending's probability).
"""

import csv
import json
import os
import sys

from absl import app, flags

import common_flags

common_flags.define_fine_tuning_flags(
    "/tmp/keras_bert_swag", train_batch_size=16, learning_rate=2e-5  # the paper's SWAG setting
)
flags.DEFINE_string("train_file", None, "SWAG-format CSV to train on (--do_train).")
flags.DEFINE_string("eval_file", None, "SWAG-format CSV to evaluate on (--do_eval).")
flags.DEFINE_string("test_file", None, "SWAG-format CSV to predict (--do_predict); the label column may be absent.")
FLAGS = flags.FLAGS
# Library arguments -> this script's flags, for error messages.
_FLAG_NAMES = {"seq_length": "max_seq_length"}


def main(argv):
    del argv
    import keras

    import keras_bert
    from keras_bert.data import multiple_choice_dataset, read_swag_csv
    from keras_bert.text import BertPreprocessor
    from keras_bert.training import compile_for_fine_tuning, distribution, fit_for_steps, training_steps

    keras.utils.set_random_seed(FLAGS.seed)
    evaluation = None
    try:
        common_flags.check_run_files(FLAGS, do_train="train_file", do_eval="eval_file", do_predict="test_file")
        dev = read_swag_csv(FLAGS.eval_file) if FLAGS.do_eval else None
        test = read_swag_csv(FLAGS.test_file, labelled=False) if FLAGS.do_predict else None
        strategy = common_flags.strategy_from_flags(FLAGS)
        if FLAGS.do_train:
            train = read_swag_csv(FLAGS.train_file)
            encoder, vocab_file, lower_case = common_flags.load_encoder(
                FLAGS.init_checkpoint, FLAGS.vocab_file, FLAGS.max_seq_length, strategy, FLAGS.random_init,
                FLAGS.gradient_checkpointing, do_lower_case=FLAGS.do_lower_case,
            )
            seq_length = FLAGS.max_seq_length
            steps = training_steps(len(train), FLAGS.train_batch_size, FLAGS.num_train_epochs,
                                   FLAGS.warmup_proportion)
        else:
            with strategy.scope():
                model, settings = common_flags.load_trained_model(FLAGS.output_dir)
            vocab_file, lower_case = os.path.join(FLAGS.output_dir, "vocab.txt"), settings["lower_case"]
            seq_length = settings["max_seq_length"]
        preprocessor = BertPreprocessor(vocab_file, seq_length, lower_case=lower_case)
        if FLAGS.do_train:
            evaluation = common_flags.dev_evaluation(FLAGS, lambda model: _score(model, dev, preprocessor)[0],
                                                     steps, ("accuracy",))
        common_flags.make_output_dir(FLAGS.output_dir)
    except (ImportError, OSError, ValueError) as e:
        sys.exit(f"run_multiple_choice.py: {common_flags.with_flag_names(e, _FLAG_NAMES)}")

    # Other workers of a multi-worker run train and score alongside the chief, writing to a scratch folder.
    output_dir = distribution.writable_dir(strategy, FLAGS.output_dir)
    if FLAGS.do_train:
        with strategy.scope():
            model = keras_bert.BertMultipleChoice(encoder, num_choices=4)
            common_flags.enable_lora_from_flags(model, FLAGS, strategy)
            compile_for_fine_tuning(
                model,
                keras.losses.SparseCategoricalCrossentropy(from_logits=True),  # softmax over the choices
                FLAGS.learning_rate,
                steps.total_steps,
                steps.warmup_steps,
                metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
                jit_compile=FLAGS.jit_compile,
            )
        train_data = multiple_choice_dataset(train, preprocessor, FLAGS.train_batch_size, shuffle=True,
                                             seed=FLAGS.seed)
        resume = common_flags.resume_options(FLAGS.output_dir, FLAGS.save_checkpoints_steps)
        print(f"Trained in {fit_for_steps(model, train_data.repeat(), steps, evaluation=evaluation, **resume):.0f} s.")
        common_flags.save_model(model, output_dir, "multiple_choice.keras")
        common_flags.save_serving_settings(output_dir, vocab_file, "multiple_choice.keras", "multiple_choice",
                                           lower_case, seq_length)
    if FLAGS.do_eval:
        results, _ = _score(model, dev, preprocessor)
        results.update(common_flags.best_evaluation_results(evaluation))
        with open(os.path.join(output_dir, "eval_results.json"), "w") as f:
            json.dump(results, f, indent=2)
        print(f"{os.path.basename(FLAGS.eval_file)} ({len(dev):,} questions): accuracy = {results['accuracy']:.4f}")
    if FLAGS.do_predict:
        _, probabilities = _score(model, test, preprocessor)
        path = os.path.join(output_dir, "test_predictions.csv")
        with open(path, "w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["index", "label"] + [f"probability{i}" for i in range(probabilities.shape[1])])
            writer.writerows([i, int(row.argmax())] + [f"{p:.6f}" for p in row] for i, row in enumerate(probabilities))
        print(f"Wrote {len(test):,} predictions to {path}.")


def _score(model, examples, preprocessor):
    """`({"accuracy"}, probabilities (examples, 4))` of the model on `examples` (accuracy is -1 without labels)."""
    import keras

    from keras_bert.data import multiple_choice_dataset
    from keras_bert.training import predict_classifier

    labels, predictions, logits = predict_classifier(
        model, multiple_choice_dataset(examples, preprocessor, FLAGS.eval_batch_size))
    return {"accuracy": float((labels == predictions).mean())}, keras.ops.convert_to_numpy(keras.ops.softmax(logits))


if __name__ == "__main__":
    app.run(main)
