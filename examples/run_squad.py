"""Fine-tunes BERT for SQuAD question answering and scores it by the official rules.

    python examples/run_squad.py --train_file=../shared/data/squad/train.json \
        --predict_file=../shared/data/squad/dev.json --output_dir=/tmp/squad
    python examples/run_squad.py --version_2_with_negative --train_file=train-v2.0.json \
        --predict_file=dev-v2.0.json --output_dir=/tmp/squad2
    python examples/run_squad.py --nodo_train --nodo_eval --do_predict --predict_file=test.json \
        --version_2_with_negative --output_dir=/tmp/squad2   # the model trained before in --output_dir

Contexts are cut into windows of --max_seq_length pieces, --doc_stride apart;
answers are the best-scoring spans over all windows (n-best search, at most
--max_answer_length pieces), taken from the original context by character
offsets. Writes OUTPUT_DIR/predictions.json (question id -> answer), with
--do_eval eval_results.json (exact_match, f1) and with --do_train the model
(span_labeler.keras, vocab.txt and serving.json for export_saved_model.py).
--nodo_train answers with that model, on the windows it was trained with
unless --max_seq_length, --doc_stride or --max_query_length are given.

SQuAD v2.0 (--version_2_with_negative): unanswerable questions are trained on
with both positions at [CLS]; null_odds.json (question id -> null score minus
best span score) is written beside predictions.json, and a question is
answered "" when its odds exceed --null_score_diff_threshold. Without that
flag the threshold is chosen on --predict_file when it has answers: the
official best_f1_thresh of the best non-empty answers and their null odds
(BERT's recipe: evaluate with null_odds.json, rerun with that threshold). It
goes to eval_results.json (null_score_diff_threshold) and serving.json, for
export_saved_model.py. eval_results.json holds what the official
evaluate-v2.0.py prints for predictions.json with --na-prob-file
null_odds.json: exact, f1, total, HasAns_*, NoAns_*, best_exact(_thresh),
best_f1(_thresh).
"""

import json
import os
import sys

from absl import app, flags

import common_flags

# 1e-4, not BERT's usual 5e-5: this 6-layer model fine-tunes better with it on the shared split in the
# same 2 epochs, as transformers does (reports/fine_tuning.md).
common_flags.define_fine_tuning_flags("/tmp/keras_bert_squad", max_seq_length=384, num_train_epochs=2.0,
                                     learning_rate=1e-4)
flags.DEFINE_string("train_file", None, "SQuAD JSON to train on (--do_train).")
flags.DEFINE_string("predict_file", None, "SQuAD JSON to answer (--do_eval, --do_predict); --do_eval scores it "
                    "when it has answers.")
flags.DEFINE_bool("version_2_with_negative", False, "SQuAD v2.0: questions may have no answer.")
flags.DEFINE_float("null_score_diff_threshold", None, "v2.0: answer empty if null score - best span score > this. "
                   "Default: the best_f1_thresh on --predict_file when --do_eval scores it, else the model's "
                   "(serving.json), else 0.")
flags.DEFINE_integer("doc_stride", 128, "Pieces between window starts.", lower_bound=1)
flags.DEFINE_integer("max_query_length", 64, "Question pieces kept.", lower_bound=1)
flags.DEFINE_integer("n_best_size", 20, "Start/end candidates per window.", lower_bound=1)
flags.DEFINE_integer("max_answer_length", 30, "Longest answer in pieces.", lower_bound=1)
FLAGS = flags.FLAGS
# Library arguments -> this script's flags, for error messages.
_FLAG_NAMES = {"seq_length": "max_seq_length", "doc_stride": "doc_stride", "max_query_length": "max_query_length"}
_MODEL_FILE = "span_labeler.keras"


def main(argv):
    del argv
    try:  # before the slow imports: a flag mistake is told at once
        _check_run_flags()
    except ValueError as e:
        sys.exit(f"run_squad.py: {e}")
    import keras

    import keras_bert
    from keras_bert.data import (apply_null_score_threshold, read_squad, squad_best_answers, squad_dataset,
                                 squad_features)
    from keras_bert.metrics import squad_scores, squad_v2_scores
    from keras_bert.text import BertTokenizer
    from keras_bert.training import (compile_for_fine_tuning, distribution, fit_for_steps, predict_logits,
                                     training_steps)

    keras.utils.set_random_seed(FLAGS.seed)
    window_flags = dict(seq_length=FLAGS.max_seq_length, doc_stride=FLAGS.doc_stride,
                        max_query_length=FLAGS.max_query_length)
    version_2 = FLAGS.version_2_with_negative
    try:
        # The JSON first: a wrong path fails before the checkpoint loads.
        train = read_squad(FLAGS.train_file) if FLAGS.do_train else None
        questions = read_squad(FLAGS.predict_file) if FLAGS.do_eval or FLAGS.do_predict else None
        strategy = common_flags.strategy_from_flags(FLAGS)
        if FLAGS.do_train:
            encoder, vocab_file, lower_case = common_flags.load_encoder(
                FLAGS.init_checkpoint, FLAGS.vocab_file, FLAGS.max_seq_length, strategy, FLAGS.random_init,
                FLAGS.gradient_checkpointing, do_lower_case=FLAGS.do_lower_case,
            )
            with strategy.scope():
                model = keras_bert.BertSpanLabeler(encoder)
            common_flags.enable_lora_from_flags(model, FLAGS, strategy)
        else:
            with strategy.scope():
                model, settings = common_flags.load_trained_model(FLAGS.output_dir)
            vocab_file, lower_case = os.path.join(FLAGS.output_dir, "vocab.txt"), settings["lower_case"]
            # The windows the model was trained on, unless given now.
            window_flags.update({argument: settings[flag] for argument, flag in _FLAG_NAMES.items()
                                 if flag in settings and not FLAGS[flag].present})
            common_flags.check_seq_length(window_flags["seq_length"], model.encoder.config)
        tokenizer = BertTokenizer(vocab_file, lower_case=lower_case)
        train_features = None if train is None else squad_features(
            train, tokenizer, training=True, keep_unanswerable=version_2, **window_flags)
        predict_features = None if questions is None else squad_features(questions, tokenizer, **window_flags)
        common_flags.make_output_dir(FLAGS.output_dir)
    except (ImportError, OSError, ValueError) as e:
        sys.exit(f"run_squad.py: {common_flags.with_flag_names(e, _FLAG_NAMES)}")

    def answer(model):
        """`(best non-empty answers, null odds)` for --predict_file's questions."""
        logits = predict_logits(model, squad_dataset(predict_features, FLAGS.eval_batch_size))
        return squad_best_answers(questions, predict_features, logits["start_logits"], logits["end_logits"],
                                  n_best_size=FLAGS.n_best_size, max_answer_length=FLAGS.max_answer_length)

    def dev_scores(model):
        """The official scores of --predict_file (v2.0: at threshold 0, with best_f1 over all thresholds)."""
        answers, null_odds = answer(model)
        if not version_2:
            return squad_scores(references, answers)
        scores = squad_v2_scores(references, apply_null_score_threshold(answers, null_odds, 0.0), null_odds)
        return {name: value for name, value in scores.items() if not name.endswith(("_thresh", "total"))}

    references = None if questions is None else {q.question_id: [text for text, _ in q.answers] for q in questions}
    # Other workers of a multi-worker run train alongside the chief, writing to a scratch folder.
    output_dir = distribution.writable_dir(strategy, FLAGS.output_dir)
    evaluation = None
    if train_features is not None:
        windows = len(train_features["start_positions"])
        steps = training_steps(windows, FLAGS.train_batch_size, FLAGS.num_train_epochs, FLAGS.warmup_proportion)
        try:
            metric_names = ["f1", "exact_match"] if not version_2 else ["f1", "exact", "best_f1", "best_exact"]
            evaluation = common_flags.dev_evaluation(FLAGS, dev_scores, steps, metric_names)
        except ValueError as e:
            sys.exit(f"run_squad.py: {e}")
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
        print(f"Trained in {fit_for_steps(model, dataset, steps, evaluation=evaluation, **resume):.0f} s.")
        common_flags.save_model(model, output_dir, _MODEL_FILE)
        # BERT's default threshold until one is chosen on dev below.
        null_threshold = 0.0 if FLAGS.null_score_diff_threshold is None else FLAGS.null_score_diff_threshold
        common_flags.save_serving_settings(
            output_dir, vocab_file, _MODEL_FILE, "squad", lower_case, FLAGS.max_seq_length,
            max_query_length=FLAGS.max_query_length,
            max_answer_length=FLAGS.max_answer_length, doc_stride=FLAGS.doc_stride,
            null_score_threshold=null_threshold if version_2 else None,
        )
    if questions is None:
        return

    answers, null_odds = answer(model)
    best = common_flags.best_evaluation_results(evaluation)
    # A file without a single answer is unlabelled (or all unanswerable): nothing to score against.
    score = FLAGS.do_eval and any(references.values())
    if FLAGS.do_eval and not score:
        print(f"{FLAGS.predict_file} has no answers: predictions written, not scored.")
    name = f"{os.path.basename(FLAGS.predict_file)} ({len(questions):,} questions)"
    if not version_2:
        _write_json(output_dir, "predictions.json", answers)
        if score:
            scores = squad_scores(references, answers)
            _write_json(output_dir, "eval_results.json", dict(scores, **best))
            print(f"{name}: exact_match = {scores['exact_match']:.2f}, f1 = {scores['f1']:.2f}")
        return

    threshold = FLAGS.null_score_diff_threshold
    if threshold is None and score:
        threshold = squad_v2_scores(references, answers, null_odds)["best_f1_thresh"]
        print(f"Chose --null_score_diff_threshold={threshold:.6g}: the best_f1_thresh on {name}.")
    elif threshold is None:
        threshold = common_flags.read_serving_settings(FLAGS.output_dir).get("null_score_threshold") or 0.0
    answers = apply_null_score_threshold(answers, null_odds, threshold)
    _write_json(output_dir, "predictions.json", answers)
    _write_json(output_dir, "null_odds.json", null_odds)
    if os.path.isfile(os.path.join(output_dir, "serving.json")):  # not in a worker's scratch folder
        _set_serving_threshold(output_dir, threshold)
    if score:
        scores = squad_v2_scores(references, answers, null_odds)
        _write_json(output_dir, "eval_results.json", dict(scores, null_score_diff_threshold=threshold, **best))
        print(f"{name} at --null_score_diff_threshold={threshold:.6g}: exact = {scores['exact']:.2f}, "
              f"f1 = {scores['f1']:.2f}; best_exact = {scores['best_exact']:.2f} "
              f"(threshold {scores['best_exact_thresh']:.6g}), best_f1 = {scores['best_f1']:.2f} "
              f"(threshold {scores['best_f1_thresh']:.6g})")
        for part in ("HasAns", "NoAns"):
            if f"{part}_total" in scores:
                print(f"  {part} ({scores[f'{part}_total']:,} questions): exact = {scores[f'{part}_exact']:.2f}, "
                      f"f1 = {scores[f'{part}_f1']:.2f}")


def _check_run_flags():
    """Refuses flag combinations that would do nothing, lack their file or leave one unused, naming the fix."""
    common_flags.check_run_files(FLAGS, do_train="train_file")
    # --do_eval and --do_predict share --predict_file: scored when it has answers, else only answered.
    answer = FLAGS.do_eval or FLAGS.do_predict
    if answer and not FLAGS.predict_file:
        raise ValueError("--do_eval and --do_predict need --predict_file (the SQuAD JSON to answer); pass it, or "
                         "--nodo_eval.")
    if FLAGS.predict_file and not answer:
        raise ValueError("--predict_file is used with --do_eval or --do_predict, which are off; pass one.")


def _set_serving_threshold(output_dir, threshold):
    """Stores the threshold predictions.json was made with in serving.json, for the exported model."""
    settings = common_flags.read_serving_settings(output_dir)
    settings["null_score_threshold"] = threshold
    with open(os.path.join(output_dir, "serving.json"), "w") as f:
        json.dump(settings, f, indent=2)


def _write_json(output_dir, name, value):
    with open(os.path.join(output_dir, name), "w", encoding="utf-8") as f:
        json.dump(value, f, indent=2, ensure_ascii=False)


if __name__ == "__main__":
    app.run(main)
