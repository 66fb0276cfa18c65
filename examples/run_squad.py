"""Fine-tunes BERT for SQuAD question answering and scores it by the official rules.

    python examples/run_squad.py --train_file=../shared/data/squad/train.json \
        --predict_file=../shared/data/squad/dev.json --output_dir=/tmp/squad

Contexts are cut into windows of --max_seq_length pieces, --doc_stride apart;
answers are the best-scoring spans over all windows (n-best search, at most
--max_answer_length pieces), taken from the original context by character
offsets. Writes OUTPUT_DIR/predictions.json (question id -> answer),
eval_results.json (exact_match, f1) and the model.
"""

import json
import os
import sys

from absl import app, flags

import common_flags

# 1e-4, not BERT's usual 5e-5: for this 6-layer model it gives 61.5 F1 instead of 54.2 on the shared
# split in the same 2 epochs (transformers: 63.0 vs 55.5); see the README.
common_flags.define_fine_tuning_flags("/tmp/keras_bert_squad", max_seq_length=384, num_train_epochs=2.0,
                                     learning_rate=1e-4)
flags.DEFINE_string("train_file", None, "SQuAD JSON to train on.")
flags.DEFINE_string("predict_file", None, "SQuAD JSON to answer and score.")
flags.DEFINE_bool("version_2_with_negative", False, "SQuAD v2.0: questions may have no answer.")
flags.DEFINE_float("null_score_diff_threshold", 0.0, "v2.0: answer empty if null score - best > this.")
flags.DEFINE_integer("doc_stride", 128, "Pieces between window starts.", lower_bound=1)
flags.DEFINE_integer("max_query_length", 64, "Question pieces kept.", lower_bound=1)
flags.DEFINE_integer("n_best_size", 20, "Start/end candidates per window.", lower_bound=1)
flags.DEFINE_integer("max_answer_length", 30, "Longest answer in pieces.", lower_bound=1)
flags.DEFINE_integer("predict_batch_size", 64, "", lower_bound=1)
flags.mark_flags_as_required(["predict_file"])
FLAGS = flags.FLAGS
# Library arguments -> this script's flags, for error messages.
_FLAG_NAMES = {"seq_length": "max_seq_length", "doc_stride": "doc_stride", "max_query_length": "max_query_length"}

def main(argv):
    del argv
    import keras

    import keras_bert
    from keras_bert.data import read_squad, squad_answers, squad_dataset, squad_features
    from keras_bert.metrics import squad_scores
    from keras_bert.text import BertTokenizer
    from keras_bert.training import compile_for_fine_tuning, fit_for_steps, predict_logits, training_steps

    keras.utils.set_random_seed(FLAGS.seed)
    window_flags = dict(seq_length=FLAGS.max_seq_length, doc_stride=FLAGS.doc_stride,
                        max_query_length=FLAGS.max_query_length)
    try:
        strategy = common_flags.strategy_from_flags(FLAGS)
        encoder, vocab_file, lower_case = common_flags.load_encoder(
            FLAGS.init_checkpoint, FLAGS.vocab_file, FLAGS.max_seq_length, strategy, FLAGS.random_init,
            FLAGS.gradient_checkpointing, do_lower_case=FLAGS.do_lower_case,
        )
        tokenizer = BertTokenizer(vocab_file, lower_case=lower_case)
        questions = read_squad(FLAGS.predict_file)
        predict_features = squad_features(questions, tokenizer, **window_flags)
        train_features = None
        if FLAGS.train_file:
            train_features = squad_features(read_squad(FLAGS.train_file), tokenizer, training=True,
                                            keep_unanswerable=FLAGS.version_2_with_negative, **window_flags)
        common_flags.make_output_dir(FLAGS.output_dir)
    except (ImportError, OSError, ValueError) as e:
        sys.exit(f"run_squad.py: {common_flags.with_flag_names(e, _FLAG_NAMES)}")

    with strategy.scope():
        model = keras_bert.BertSpanLabeler(encoder)
    if train_features is not None:
        windows = len(train_features["start_positions"])
        steps = training_steps(windows, FLAGS.train_batch_size, FLAGS.num_train_epochs, FLAGS.warmup_proportion)
        with strategy.scope():
            compile_for_fine_tuning(
                model,
                {name: keras.losses.SparseCategoricalCrossentropy(from_logits=True)
                 for name in ("start_logits", "end_logits")},
                FLAGS.learning_rate,
                steps.total_steps,
                steps.warmup_steps,
                loss_weights={"start_logits": 0.5, "end_logits": 0.5},  # the original averages the two
                jit_compile=FLAGS.jit_compile,
            )
        dataset = squad_dataset(train_features, FLAGS.train_batch_size, shuffle=True, seed=FLAGS.seed).repeat()
        print(f"Training on {windows:,} windows for {steps.total_steps} steps.")
        resume = common_flags.resume_options(FLAGS.output_dir, FLAGS.save_checkpoints_steps)
        print(f"Trained in {fit_for_steps(model, dataset, steps, **resume):.0f} s.")
        model.save(os.path.join(FLAGS.output_dir, "span_labeler.keras"))
        common_flags.save_serving_settings(
            FLAGS.output_dir, vocab_file, "span_labeler.keras", "squad", lower_case, FLAGS.max_seq_length,
            max_query_length=FLAGS.max_query_length,
            max_answer_length=FLAGS.max_answer_length, doc_stride=FLAGS.doc_stride,
            null_score_threshold=FLAGS.null_score_diff_threshold if FLAGS.version_2_with_negative else None,
        )

    logits = predict_logits(model, squad_dataset(predict_features, FLAGS.predict_batch_size))
    answers = squad_answers(
        questions, predict_features, logits["start_logits"], logits["end_logits"],
        n_best_size=FLAGS.n_best_size, max_answer_length=FLAGS.max_answer_length,
        null_score_threshold=FLAGS.null_score_diff_threshold if FLAGS.version_2_with_negative else None,
    )
    with open(os.path.join(FLAGS.output_dir, "predictions.json"), "w", encoding="utf-8") as f:
        json.dump(answers, f, indent=2, ensure_ascii=False)
    scores = squad_scores({q.question_id: [text for text, _ in q.answers] for q in questions}, answers)
    with open(os.path.join(FLAGS.output_dir, "eval_results.json"), "w") as f:
        json.dump(scores, f, indent=2)
    print(f"{os.path.basename(FLAGS.predict_file)} ({len(questions):,} questions): "
          f"exact_match = {scores['exact_match']:.2f}, f1 = {scores['f1']:.2f}")


if __name__ == "__main__":
    app.run(main)
