"""Fine-tunes BERT on SWAG-format multiple choice and reports accuracy.

    python examples/run_multiple_choice.py --train_file=swag/train.csv \
        --eval_file=swag/val.csv --output_dir=/tmp/swag

CSV columns: sent1 (context), sent2 (start of the ending), ending0..ending3,
label (0-3). Each (sent1, sent2 + ending) pair is packed and scored; a softmax
over the four scores is trained. Writes OUTPUT_DIR/eval_results.json
(accuracy) and the model.
"""

import json
import os
import sys

from absl import app, flags

import common_flags

common_flags.define_fine_tuning_flags(
    "/tmp/keras_bert_swag", train_batch_size=16, learning_rate=2e-5  # the paper's SWAG setting
)
flags.DEFINE_string("train_file", None, "SWAG-format CSV to train on.")
flags.DEFINE_string("eval_file", None, "SWAG-format CSV to evaluate on.")
flags.DEFINE_integer("eval_batch_size", 32, "", lower_bound=1)
flags.mark_flags_as_required(["train_file", "eval_file"])
FLAGS = flags.FLAGS
# Library arguments -> this script's flags, for error messages.
_FLAG_NAMES = {"seq_length": "max_seq_length"}


def main(argv):
    del argv
    import keras

    import keras_bert
    from keras_bert.data import multiple_choice_dataset, read_swag_csv
    from keras_bert.text import BertPreprocessor
    from keras_bert.training import compile_for_fine_tuning, fit_for_steps, predict_classifier, training_steps

    keras.utils.set_random_seed(FLAGS.seed)
    try:
        train, evaluation = read_swag_csv(FLAGS.train_file), read_swag_csv(FLAGS.eval_file)
        strategy = common_flags.strategy_from_flags(FLAGS)
        encoder, vocab_file, lower_case = common_flags.load_encoder(
            FLAGS.init_checkpoint, FLAGS.vocab_file, FLAGS.max_seq_length, strategy, FLAGS.random_init,
            FLAGS.gradient_checkpointing, do_lower_case=FLAGS.do_lower_case,
        )
        preprocessor = BertPreprocessor(vocab_file, FLAGS.max_seq_length, lower_case=lower_case)
        common_flags.make_output_dir(FLAGS.output_dir)
    except (ImportError, OSError, ValueError) as e:
        sys.exit(f"run_multiple_choice.py: {common_flags.with_flag_names(e, _FLAG_NAMES)}")

    steps = training_steps(len(train), FLAGS.train_batch_size, FLAGS.num_train_epochs, FLAGS.warmup_proportion)
    with strategy.scope():
        model = keras_bert.BertMultipleChoice(encoder, num_choices=4)
        compile_for_fine_tuning(
            model,
            keras.losses.SparseCategoricalCrossentropy(from_logits=True),  # softmax over the choices
            FLAGS.learning_rate,
            steps.total_steps,
            steps.warmup_steps,
            metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
            jit_compile=FLAGS.jit_compile,
        )
    train_data = multiple_choice_dataset(train, preprocessor, FLAGS.train_batch_size, shuffle=True, seed=FLAGS.seed)
    resume = common_flags.resume_options(FLAGS.output_dir, FLAGS.save_checkpoints_steps)
    print(f"Trained in {fit_for_steps(model, train_data.repeat(), steps, **resume):.0f} s.")
    model.save(os.path.join(FLAGS.output_dir, "multiple_choice.keras"))
    labels, predictions, _ = predict_classifier(
        model, multiple_choice_dataset(evaluation, preprocessor, FLAGS.eval_batch_size)
    )
    results = {"accuracy": float((labels == predictions).mean())}
    with open(os.path.join(FLAGS.output_dir, "eval_results.json"), "w") as f:
        json.dump(results, f, indent=2)
    print(f"{os.path.basename(FLAGS.eval_file)} ({len(evaluation):,} questions): accuracy = {results['accuracy']:.4f}")


if __name__ == "__main__":
    app.run(main)
