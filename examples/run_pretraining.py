"""Pretrains BERT with masked LM + next-sentence prediction; resumes where it stopped.

    python examples/run_pretraining.py     # a tiny BERT on the bundled Wikipedia sample, a few minutes
    python examples/run_pretraining.py --input_files='/tmp/wiki-*.tfrecord' --model_size=base \
        --model_dir=/tmp/bert_base --train_batch_size=256 --num_train_steps=1000000 \
        --distribution_strategy=mirrored --mixed_precision=bfloat16

--input_files takes TFRecords from create_pretraining_data.py (or the original's), or raw
text files, which are made into instances once under MODEL_DIR/data. Masks are drawn
afresh on every read unless the records carry static masks. Started again with the same
flags, a run continues from its newest checkpoint. At the end MODEL_DIR holds a
Google-format checkpoint (bert_model.ckpt, bert_config.json, vocab.txt) that the
fine-tuning scripts take as --init_checkpoint; keras_bert.load_encoder(MODEL_DIR) also
reads the newest checkpoint while a run is going.
"""

import dataclasses
import json
import os
import shutil
import sys
import time

from absl import app, flags

import common_flags
from pretraining_curves import plot_pretraining_curves

_EXAMPLES = os.path.dirname(os.path.abspath(__file__))
_SAMPLE = os.path.join(_EXAMPLES, "data", "wiki_sample")
MODEL_SIZES = {  # layers, hidden, heads (Google's BERT miniatures and the paper's two sizes)
    "tiny": (2, 128, 2), "mini": (4, 256, 4), "small": (4, 512, 8),
    "medium": (8, 512, 8), "base": (12, 768, 12), "large": (24, 1024, 16),
}

# Flag presets (--recipe); a flag given on the command line wins over its preset value.
RECIPES = {
    "bert": {},  # the paper's setup: sentence pairs with NSP, dropout 0.1 (the flags' defaults)
    # Packed MLM-only windows, dropout off, a high peak learning rate: after Izsak et al. 2021 and Geiping and
    # Goldstein 2022; measured in study 7 of examples/reproduce_paper.py (reports/pretraining_recipe/REPORT.md).
    "small_budget": {"packed_sequences": True, "dropout": 0.0, "learning_rate": 1e-3},
}

flags.DEFINE_enum("recipe", "bert", list(RECIPES), "Flag presets: bert (the paper's setup) or small_budget (packed "
                  "MLM-only windows, dropout off, peak lr 1e-3: the small-budget literature's settings, usually with "
                  "a --vocab_file learned by build_vocab.py; measured in reports/pretraining_recipe). Flags given "
                  "explicitly win.")
flags.DEFINE_string("input_files", os.path.join(_SAMPLE, "train.txt"), "Comma-separated globs: TFRecords or text.")
flags.DEFINE_string("eval_input_files", os.path.join(_SAMPLE, "heldout.txt"), "Held-out data, same kinds.")
flags.DEFINE_string("bert_config_file", None, "A bert_config.json; else --model_size.")
flags.DEFINE_enum("model_size", "tiny", list(MODEL_SIZES), "Architecture when no config or checkpoint is given.")
flags.DEFINE_integer("num_layers", None, "Transformer blocks, overriding --model_size's (a deeper or shallower variant).",
                     lower_bound=1)
flags.DEFINE_string("vocab_file", None, "Default: the init checkpoint's, else all-MiniLM-L6-v2's (BERT uncased).")
common_flags.define_lower_case_flag()
flags.DEFINE_string("init_checkpoint", None, "Continue pretraining from a preset name, hf://OWNER/NAME, URL or any "
                    "layout load_encoder reads.")
flags.DEFINE_string("model_dir", "/tmp/keras_bert_pretraining", "Run directory: checkpoints, logs, results.")
flags.DEFINE_bool("do_train", True, "")
flags.DEFINE_bool("do_eval", True, "Report MLM/NSP accuracy on --eval_input_files.")
flags.DEFINE_integer("train_batch_size", 32, "Sequences per micro-batch (per update without accumulation).",
                     lower_bound=1)
flags.DEFINE_integer("eval_batch_size", 64, "", lower_bound=1)
flags.DEFINE_integer("max_eval_steps", 100, "", lower_bound=1)
flags.DEFINE_integer("eval_every_steps", 0, "Also score the held-out data every this many updates while training (a "
                     "multiple of --steps_per_loop): metrics.jsonl then holds eval_mlm_accuracy and the rest beside "
                     "train_seconds, a learning curve against wall time. 0: only at the end.", lower_bound=0)
flags.DEFINE_integer("max_seq_length", 128, "", lower_bound=3)
flags.DEFINE_integer("max_predictions_per_seq", 20, "", lower_bound=1)
flags.DEFINE_float("masked_lm_prob", 0.15, "", lower_bound=0.0, upper_bound=1.0)
flags.DEFINE_float("mask_token_rate", 0.8, "Share of chosen tokens replaced by [MASK] (the paper: 0.8).",
                   lower_bound=0.0, upper_bound=1.0)
flags.DEFINE_float("random_token_rate", 0.1, "Share replaced by a random token (0.1); the rest stay unchanged.",
                   lower_bound=0.0, upper_bound=1.0)
flags.DEFINE_enum("objective", "mlm", ["mlm", "ltr"], "mlm: BERT's masked LM. ltr: the paper's left-to-right "
                  "ablation: a causal encoder predicting each chosen token from the position before it.")
flags.DEFINE_bool("next_sentence_prediction", True, "Train the next-sentence head too (false: MLM only, "
                  "the paper's No-NSP ablation; the head stays, untrained).")
flags.DEFINE_bool("packed_sequences", False, "For text input: instances are full windows of the concatenated "
                  "documents ([CLS] text [SEP], no padding, no sentence pairs) and only the masked LM trains "
                  "(RoBERTa's full sentences; the small-budget recipe).")
flags.DEFINE_float("dropout", None, "Dropout while pretraining (0: off, as the small-budget recipe). Default: the "
                   "architecture's (0.1); the saved bert_config.json keeps the architecture's for fine-tuning.",
                   lower_bound=0.0, upper_bound=0.99)
flags.DEFINE_bool("whole_word_masking", False, "Mask all WordPieces of a word together.")
flags.DEFINE_bool("segmented_words", False, "Text input is word-segmented with spaces (Chinese): words for "
                  "--whole_word_masking are those.")
flags.DEFINE_integer("dupe_factor", 1, "For text input: passes over the text when making instances.", lower_bound=1)
flags.DEFINE_integer("num_train_steps", 600, "Optimizer updates.", lower_bound=1)
flags.DEFINE_integer("num_warmup_steps", 60, "", lower_bound=0)
flags.DEFINE_float("learning_rate", 5e-4, "Peak learning rate.", lower_bound=0.0)
flags.DEFINE_enum("optimizer", "adamw", ["adamw", "lamb"], "")
flags.DEFINE_float("weight_decay", 0.01, "", lower_bound=0.0)
flags.DEFINE_integer("grad_accum_steps", 1, "Micro-batches averaged per update.", lower_bound=1)
flags.DEFINE_integer("steps_per_loop", 100, "Updates per log line.", lower_bound=1)
flags.DEFINE_integer("save_checkpoints_steps", 200, "A multiple of --steps_per_loop.", lower_bound=1)
flags.DEFINE_integer("seed", 12345, "", lower_bound=0)
flags.DEFINE_bool("check_input_files", True, "Read every instance record once before training: a truncated or "
                  "corrupt file, another sequence length or ids outside the vocabulary stop the run at once.")
common_flags.define_distribution_flags()
FLAGS = flags.FLAGS
# Library arguments -> this script's flags, for error messages.
_FLAG_NAMES = {"max_seq_length": "max_seq_length", "seq_length": "max_seq_length",
               "max_predictions_per_seq": "max_predictions_per_seq", "masked_lm_prob": "masked_lm_prob",
               "mask_token_rate": "mask_token_rate", "random_token_rate": "random_token_rate"}


def main(argv):
    del argv
    import keras

    import keras_bert
    from keras_bert.checkpoints import write_config_json
    from keras_bert.data import MaskingOptions, check_records, pretraining_dataset
    from keras_bert.presets import default_vocab_file, resolve_lower_case
    from keras_bert.training import (
        DevEvaluation, TrainingSteps, create_optimizer, distribution, restore_run, resumable_fit,
    )

    for name, value in RECIPES[FLAGS.recipe].items():
        if not FLAGS[name].present:
            setattr(FLAGS, name, value)
    if FLAGS.recipe != "bert":
        print(f"Recipe {FLAGS.recipe}: " + ", ".join(f"--{name}={getattr(FLAGS, name)}" for name in RECIPES[FLAGS.recipe]))
    try:
        strategy = common_flags.strategy_from_flags(FLAGS)
        keras.utils.set_random_seed(FLAGS.seed)
        checkpoint = keras_bert.read_checkpoint(FLAGS.init_checkpoint) if FLAGS.init_checkpoint else None
        vocab_file = FLAGS.vocab_file or (checkpoint and checkpoint.vocab_file) or default_vocab_file()
        masking = MaskingOptions.from_vocab_file(
            vocab_file, max_predictions_per_seq=FLAGS.max_predictions_per_seq,
            masked_lm_prob=FLAGS.masked_lm_prob, whole_word_masking=FLAGS.whole_word_masking,
            mask_token_rate=FLAGS.mask_token_rate, random_token_rate=FLAGS.random_token_rate,
            objective=FLAGS.objective,
        )
        if checkpoint:
            config = checkpoint.config
        else:
            config = _config(masking.vocab_size, FLAGS.bert_config_file, FLAGS.model_size, FLAGS.num_layers,
                              FLAGS.objective)
        if config.causal_attention != (FLAGS.objective == "ltr"):
            raise ValueError(
                f"--objective={FLAGS.objective} needs a {'causal' if FLAGS.objective == 'ltr' else 'bidirectional'}"
                f" encoder, but the given model has causal_attention={config.causal_attention}."
            )
        if FLAGS.packed_sequences and FLAGS["next_sentence_prediction"].present and FLAGS.next_sentence_prediction:
            raise ValueError("--packed_sequences makes single-segment instances, which have no next sentence to "
                             "predict; drop --next_sentence_prediction.")
        next_sentence_prediction = FLAGS.next_sentence_prediction and not FLAGS.packed_sequences
        common_flags.check_seq_length(FLAGS.max_seq_length, config)
        keras_bert.checkpoints.check_vocab_fits(
            vocab_file, config, FLAGS.init_checkpoint or FLAGS.bert_config_file or "--model_size"
        )
        _prepare_model_dir(FLAGS.model_dir, config, vocab_file, strategy)
        text_options = dict(model_dir=FLAGS.model_dir, vocab_file=vocab_file, lower_case=resolve_lower_case(
                                FLAGS.init_checkpoint, FLAGS.do_lower_case, FLAGS.vocab_file or vocab_file),
                            segmented_words=FLAGS.segmented_words, max_seq_length=FLAGS.max_seq_length,
                            dupe_factor=FLAGS.dupe_factor, seed=FLAGS.seed, packed=FLAGS.packed_sequences,
                            strategy=strategy)
        if FLAGS.eval_every_steps and (not FLAGS.do_eval or FLAGS.eval_every_steps % FLAGS.steps_per_loop):
            raise ValueError(f"--eval_every_steps={FLAGS.eval_every_steps} needs --do_eval and must be a multiple "
                             f"of --steps_per_loop={FLAGS.steps_per_loop}.")
        train_files = _instance_files(FLAGS.input_files, "train", **text_options) if FLAGS.do_train else []
        eval_files = _instance_files(FLAGS.eval_input_files, "eval", **text_options) if FLAGS.do_eval else []
        if FLAGS.check_input_files:
            start = time.time()
            count = check_records(train_files + eval_files, FLAGS.max_seq_length, config.vocab_size)
            print(f"Checked {len(train_files + eval_files)} instance file(s): {count:,} records, "
                  f"all readable, ids below {config.vocab_size:,} ({time.time() - start:.1f} s).")

        def train_data(skip_batches):
            return pretraining_dataset(train_files, FLAGS.train_batch_size, FLAGS.max_seq_length, masking,
                                       seed=FLAGS.seed, skip_batches=skip_batches)

        if FLAGS.do_train:
            train_data(0)  # reads the first record: a file of another length stops here, named
        # Dropout is a training setting: the encoder trains with --dropout, the saved config keeps `config`'s.
        dropout = {} if FLAGS.dropout is None else dict(hidden_dropout_prob=FLAGS.dropout,
                                                        attention_probs_dropout_prob=FLAGS.dropout)
        with strategy.scope():
            if checkpoint:
                training_config = dataclasses.replace(checkpoint.config, **dropout)
                encoder = keras_bert.BertEncoder.from_checkpoint(dataclasses.replace(checkpoint, config=training_config))
            else:
                encoder = keras_bert.BertEncoder.from_bert_config(dataclasses.replace(config, **dropout))
            encoder.gradient_checkpointing = FLAGS.gradient_checkpointing
            pretrainer = keras_bert.BertPretrainer(encoder)
            if checkpoint and checkpoint.heads:
                keras_bert.checkpoints.load_head_weights(pretrainer, checkpoint.heads, checkpoint.source)
            pretrainer.compile(
                optimizer=create_optimizer(
                    FLAGS.learning_rate, FLAGS.num_train_steps, FLAGS.num_warmup_steps, FLAGS.weight_decay,
                    FLAGS.optimizer, gradient_accumulation_steps=FLAGS.grad_accum_steps,
                ),
                loss_weights={"mlm": 1.0, "nsp": 1.0 if next_sentence_prediction else 0.0},
                jit_compile=FLAGS.jit_compile,
            )
    except (OSError, ValueError, keras_bert.CheckpointError) as e:
        sys.exit(f"run_pretraining.py: {common_flags.with_flag_names(e, _FLAG_NAMES)}")

    if FLAGS.do_eval:
        try:
            eval_data = pretraining_dataset(eval_files, FLAGS.eval_batch_size, FLAGS.max_seq_length, masking,
                                            training=False).take(FLAGS.max_eval_steps)
        except ValueError as e:
            sys.exit(f"run_pretraining.py: {common_flags.with_flag_names(e, _FLAG_NAMES)}")

        def evaluate(model):
            return model.evaluate(eval_data, return_dict=True, verbose=0)

    if FLAGS.do_train:
        evaluation = None
        if FLAGS.eval_every_steps:
            steps = TrainingSteps(FLAGS.num_train_steps, FLAGS.num_train_steps, FLAGS.num_warmup_steps, 1)
            evaluation = DevEvaluation(evaluate, steps, os.path.join(FLAGS.model_dir, "heldout"),
                                       FLAGS.eval_every_steps, "mlm_accuracy", keep_best=False)
        try:
            resumable_fit(pretrainer, train_data, FLAGS.model_dir, FLAGS.num_train_steps, FLAGS.train_batch_size,
                          FLAGS.steps_per_loop, FLAGS.save_checkpoints_steps, evaluation=evaluation)
        except FloatingPointError as e:
            sys.exit(f"run_pretraining.py: {e} Flags: a lower --learning_rate, more --num_warmup_steps, or "
                     "--mixed_precision=float32.")
        if distribution.is_chief(strategy):
            heads = keras_bert.checkpoints.head_weights(pretrainer)
            keras_bert.save_tf1_checkpoint(encoder, FLAGS.model_dir, extra_weights=heads)
            write_config_json(config, os.path.join(FLAGS.model_dir, "bert_config.json"), dialect="google")
            print(f"Google-format checkpoint: {FLAGS.model_dir}/bert_model.ckpt")
            curves = os.path.join(FLAGS.model_dir, "curves.png")
            plot_pretraining_curves(os.path.join(FLAGS.model_dir, "metrics.jsonl"), curves)
            print(f"Curves: {curves}")
    if FLAGS.do_eval:
        if not FLAGS.do_train and not restore_run(pretrainer, FLAGS.model_dir)[1]:
            sys.exit(f"run_pretraining.py: --do_train=false, but {FLAGS.model_dir} has no checkpoint to evaluate.")
        results = evaluate(pretrainer)
        print("Held-out: " + ", ".join(f"{k} {v:.4f}" for k, v in results.items()))
        if distribution.is_chief(strategy):
            with open(os.path.join(FLAGS.model_dir, "eval_results.json"), "w") as f:
                json.dump(results, f, indent=2)


def _config(vocab_size, bert_config_file, model_size, num_layers, objective):
    """The architecture of --bert_config_file, else of --model_size (--num_layers deep, if given)."""
    from keras_bert import BertConfig
    from keras_bert.checkpoints import read_config_json

    if bert_config_file:
        return read_config_json(bert_config_file)
    layers, hidden, heads = MODEL_SIZES[model_size]
    return BertConfig(vocab_size=vocab_size, hidden_size=hidden, num_layers=num_layers or layers,
                      num_attention_heads=heads, intermediate_size=4 * hidden, causal_attention=objective == "ltr")


def _prepare_model_dir(model_dir, config, vocab_file, strategy):
    """Writes bert_config.json and vocab.txt; refuses a directory of another run's shape."""
    from keras_bert.checkpoints import read_config_json, write_config_json
    from keras_bert.training.distribution import is_chief

    config_path = os.path.join(model_dir, "bert_config.json")
    if os.path.isfile(config_path) and read_config_json(config_path) != config:
        raise ValueError(
            f"{model_dir} holds a run of another shape ({config_path}); "
            "use a new --model_dir or the same model flags."
        )
    if is_chief(strategy):
        common_flags.make_output_dir(model_dir, "--model_dir")
        write_config_json(config, config_path, dialect="google")
        shutil.copyfile(vocab_file, os.path.join(model_dir, "vocab.txt"))


def _instance_files(patterns, name, model_dir, vocab_file, lower_case, segmented_words, max_seq_length,
                    dupe_factor, seed, packed, strategy):
    """TFRecords as given, or made once from text under MODEL_DIR/data."""
    from keras_bert.data import make_pretraining_records, read_documents
    from keras_bert.data.text_files import expand_file_patterns
    from keras_bert.text import BertTokenizer
    from keras_bert.training.distribution import writable_dir

    files = expand_file_patterns(patterns)
    if all(".tfrecord" in os.path.basename(f) for f in files):
        if packed and not _single_segment(files[0]):
            raise ValueError(f"--packed_sequences needs text, or records made by create_pretraining_data.py "
                             f"--packed_sequences; {files[0]} holds sentence pairs.")
        return files
    kind = ".packed" if packed else ""
    output = os.path.join(writable_dir(strategy, os.path.join(model_dir, "data")), f"{name}{kind}.tfrecord")
    if not os.path.exists(output):
        tokenizer = BertTokenizer(vocab_file, lower_case=lower_case)
        documents = read_documents(files, tokenizer, segmented_words=segmented_words)
        os.makedirs(os.path.dirname(output), exist_ok=True)
        instances = make_pretraining_records(documents, tokenizer, [output], max_seq_length,
                                             dupe_factor=dupe_factor, seed=seed, packed=packed)
        print(f"Made {len(instances):,} {name} instances from {len(documents):,} documents: {output}")
    return [output]


def _single_segment(path):
    """Whether the first instance in a TFRecord file is one segment (a packed window), not a sentence pair."""
    import tensorflow as tf

    from keras_bert.data import record_layout

    record_layout(path)  # a clear error for a file that is no readable instance file
    record = next(iter(tf.data.TFRecordDataset(path).take(1)))
    return not any(tf.train.Example.FromString(record.numpy()).features.feature["segment_ids"].int64_list.value)


if __name__ == "__main__":
    app.run(main)
