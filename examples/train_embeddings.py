"""Trains sentence embeddings (a bi-encoder) on text pairs; reports the dev Spearman correlation; exports it.

    python examples/train_embeddings.py           # MRPC paraphrases, bundled in examples/data/mrpc
    python examples/train_embeddings.py --train_file=pairs.jsonl --dev_file=sts_dev.tsv \
        --anchor_column=sentence1 --positive_column=sentence2 --output_dir=/tmp/embeddings
    python examples/train_embeddings.py --loss=cosine --train_file=stsb_train.tsv --score_column=score ...
    python examples/train_embeddings.py --lora_rank=8 --learning_rate=1e-3      # LoRA adapters only

Starts from all-MiniLM-L6-v2 (--init_checkpoint takes anything keras_bert.load_encoder reads), with
the checkpoint's own pooling and normalisation when it is a sentence-transformers model (else
mean pooling, unit length). Losses: --loss=mnrl (MultipleNegativesRankingLoss: each anchor must
pick its positive among all positives, and hard negatives, of the batch; rows are (anchor,
positive[, negative])), mnrl_symmetric (both directions), cosine (squared error between the
pair's cosine similarity and its score; rows are scored pairs).

Data: --train_file and --dev_file are .tsv, .csv (with a header) or .jsonl files, the columns
named by the column flags; the dev file is scored pairs. Without them, MRPC's official files in
--data_dir: for training its paraphrase pairs (label 1; every pair, scored 0/1, for
--loss=cosine), for evaluation all 408 dev pairs scored 0/1. The dev metric is the Spearman
correlation between the pairs' cosine similarities and their scores (spearman_cosine, as
sentence-transformers' EmbeddingSimilarityEvaluator; pearson_cosine beside it).

Writes OUTPUT_DIR/model.keras (the BertTextEmbedder, its preprocessor inside; with LoRA also
lora_weights.npz), eval_results.json, vocab.txt + serving.json, and a SavedModel taking raw
strings (`text`) to `embedding` in --export_dir (default OUTPUT_DIR/saved_model, replaced on
every run), which serves with only tensorflow and tensorflow_text imported. --nodo_train scores
the model already in OUTPUT_DIR.
"""

import json
import os
import shutil
import sys

from absl import app, flags

import common_flags

_EXAMPLES = os.path.dirname(os.path.abspath(__file__))
_LOSSES = ("mnrl", "mnrl_symmetric", "cosine")

common_flags.define_fine_tuning_flags("/tmp/keras_bert_embeddings", learning_rate=2e-5, num_train_epochs=1.0)
flags.DEFINE_enum("loss", "mnrl", _LOSSES, "mnrl: in-batch negatives ranking; mnrl_symmetric: both directions; "
                  "cosine: squared error of the pair's cosine similarity against its score.")
flags.DEFINE_float("scale", 20.0, "--loss=mnrl*: the cosine similarities' scale (1 / temperature).",
                   lower_bound=0.0)
flags.register_validator("scale", lambda value: value > 0, message="--scale must be greater than 0.")
flags.DEFINE_enum("pooling", None, ["mean", "cls", "max"], "Token pooling. Default: the checkpoint's own "
                  "(a sentence-transformers model's), else mean.")
flags.DEFINE_string("data_dir", os.path.join(_EXAMPLES, "data", "mrpc"), "MRPC's official train.tsv and dev.tsv, "
                    "read where --train_file or --dev_file is not given (e.g. ../shared/data/glue/mrpc).")
flags.DEFINE_string("train_file", None, "Training rows (.tsv, .csv or .jsonl): anchor and positive columns (and "
                    "--negative_column); for --loss=cosine, scored pairs.")
flags.DEFINE_string("dev_file", None, "Scored pairs to evaluate on (.tsv, .csv or .jsonl): the anchor, positive and "
                    "score columns.")
flags.DEFINE_string("anchor_column", "anchor", "Column (or JSON key) of the first text.")
flags.DEFINE_string("positive_column", "positive", "Column of the second text (a positive, or the text scored).")
flags.DEFINE_string("negative_column", None, "--train_file: column of a hard negative (triplets; --loss=mnrl*).")
flags.DEFINE_string("score_column", "score", "Column of the similarity score (the dev file; --loss=cosine training).")
flags.DEFINE_bool("skip_bad_rows", False, "Skip rows with missing values or a score that is not a number (each file "
                  "logs how many, and where) instead of stopping at the first.")
flags.DEFINE_integer("max_train_examples", None, "Train on the first N rows only (quick runs).", lower_bound=1)
flags.DEFINE_integer("max_eval_examples", None, "Score the first N dev pairs only (quick runs).", lower_bound=1)
flags.DEFINE_float("weight_decay", 0.01, "AdamW decoupled weight decay.", lower_bound=0.0)
flags.DEFINE_string("export_dir", None, "Where the SavedModel goes (must not hold one). Default: "
                    "OUTPUT_DIR/saved_model, replaced on every run.")
FLAGS = flags.FLAGS
# Library arguments -> this script's flags, for error messages.
_FLAG_NAMES = {"seq_length": "max_seq_length", "skip_bad_rows": "skip_bad_rows", "anchor_column": "anchor_column",
               "positive_column": "positive_column"}
_MODEL_FILE = "model.keras"
_TASK = "embeddings"
_METRICS = ("spearman_cosine", "pearson_cosine")  # the headline metric first


def main(argv):
    del argv
    import keras

    from keras_bert.data.text_pairs import text_pairs_dataset
    from keras_bert.models import BertPairEmbedder, BertTextEmbedder
    from keras_bert.models.bert_text_embedder import sentence_transformers_settings
    from keras_bert.presets.resolve import checkpoint_directory
    from keras_bert.text import BertPreprocessor
    from keras_bert.training import compile_for_fine_tuning, distribution, fit_for_steps, training_steps

    keras.utils.set_random_seed(FLAGS.seed)
    try:
        if not (FLAGS.do_train or FLAGS.do_eval):
            raise ValueError("nothing to do; pass --do_train or --do_eval.")
        if FLAGS.do_predict:
            raise ValueError("--do_predict: embeddings have no test predictions; embed texts with the SavedModel in "
                             "--export_dir (or BertTextEmbedder.encode) instead.")
        export_dir = FLAGS.export_dir or os.path.join(FLAGS.output_dir, "saved_model")
        if FLAGS.do_train and FLAGS.export_dir and os.path.exists(os.path.join(FLAGS.export_dir, "saved_model.pb")):
            raise ValueError(f"--export_dir={FLAGS.export_dir} already holds a SavedModel; choose a new directory.")
        strategy = common_flags.strategy_from_flags(FLAGS)
        train = _read_train() if FLAGS.do_train else None
        dev = _read_dev() if FLAGS.do_eval else None
        if FLAGS.do_train:
            encoder, vocab_file, lower_case = common_flags.load_encoder(
                FLAGS.init_checkpoint, FLAGS.vocab_file, FLAGS.max_seq_length, strategy, FLAGS.random_init,
                FLAGS.gradient_checkpointing, do_lower_case=FLAGS.do_lower_case,
            )
            published = sentence_transformers_settings(checkpoint_directory(FLAGS.init_checkpoint))
            preprocessor = BertPreprocessor(vocab_file, FLAGS.max_seq_length, lower_case=lower_case)
            with strategy.scope():
                embedder = BertTextEmbedder(encoder, pooling=FLAGS.pooling or published.get("pooling", "mean"),
                                            normalize=published.get("normalize", True), preprocessor=preprocessor)
                model = BertPairEmbedder(embedder, with_negative=train.negative is not None)
            common_flags.enable_lora_from_flags(model, FLAGS, strategy)
        else:  # the embedder, vocabulary and length of the run saved in --output_dir
            with strategy.scope():
                embedder, saved = common_flags.load_trained_model(FLAGS.output_dir)
            if saved["task"] != _TASK:
                raise ValueError(f"the model in --output_dir={FLAGS.output_dir} was fine-tuned on {saved['task']!r}, "
                                 "not trained by train_embeddings.py; pass another --output_dir.")
            preprocessor = embedder.preprocessor
        common_flags.make_output_dir(FLAGS.output_dir)
    except (ImportError, OSError, ValueError) as e:
        sys.exit(f"train_embeddings.py: {common_flags.with_flag_names(e, _FLAG_NAMES)}")

    # Other workers of a multi-worker run train alongside the chief, writing to a scratch folder.
    output_dir = distribution.writable_dir(strategy, FLAGS.output_dir)
    evaluation = None
    if FLAGS.do_train:
        steps = training_steps(len(train), FLAGS.train_batch_size, FLAGS.num_train_epochs, FLAGS.warmup_proportion)
        try:
            evaluation = common_flags.dev_evaluation(
                FLAGS, lambda model: _dev_scores(model.embedder, dev, preprocessor), steps, list(_METRICS))
        except ValueError as e:
            sys.exit(f"train_embeddings.py: {e}")
        with strategy.scope():
            compile_for_fine_tuning(model, _loss(), FLAGS.learning_rate, steps.total_steps,
                                    warmup_steps=steps.warmup_steps, weight_decay=FLAGS.weight_decay,
                                    jit_compile=FLAGS.jit_compile)
        train_data = text_pairs_dataset(train, preprocessor, FLAGS.train_batch_size, shuffle=True,
                                        seed=FLAGS.seed).repeat()
        resume = common_flags.resume_options(FLAGS.output_dir, FLAGS.save_checkpoints_steps)
        print(f"Training embeddings with {FLAGS.loss} on {len(train):,} rows of {train.source} for "
              f"{steps.total_steps} steps ({FLAGS.num_train_epochs:g} epochs of {steps.steps_per_epoch}).")
        seconds = fit_for_steps(model, train_data, steps, evaluation=evaluation, **resume)
        print(f"Trained in {seconds:.0f} s.")
        common_flags.save_model(embedder, output_dir, _MODEL_FILE)
        common_flags.save_serving_settings(output_dir, vocab_file, _MODEL_FILE, _TASK, lower_case,
                                           FLAGS.max_seq_length, pooling=embedder.pooling,
                                           normalize=embedder.normalize)

    if dev is not None:
        results = common_flags.best_evaluation_results(evaluation)
        results.update(_dev_scores(embedder, dev, preprocessor))
        print(f"{dev.source} ({len(dev)} pairs): " + ", ".join(f"{key} = {results[key]:.4f}" for key in _METRICS))
        with open(os.path.join(output_dir, "eval_results.json"), "w") as f:
            json.dump(results, f, indent=2)

    if FLAGS.do_train:
        _export(embedder, preprocessor, distribution.writable_dir(strategy, export_dir))


def _loss():
    """The Keras loss --loss names."""
    from keras_bert.losses import CosineSimilarityLoss, MultipleNegativesRankingLoss

    if FLAGS.loss == "cosine":
        return CosineSimilarityLoss()
    return MultipleNegativesRankingLoss(scale=FLAGS.scale, symmetric=FLAGS.loss == "mnrl_symmetric")


def _read_train():
    """The training rows: --train_file's, or MRPC's paraphrase pairs (all pairs, scored, for --loss=cosine)."""
    from keras_bert.data import read_glue_split
    from keras_bert.data.text_pairs import glue_text_pairs, read_text_pairs

    scored = FLAGS.loss == "cosine"
    if scored and FLAGS.negative_column:
        raise ValueError("--negative_column is for --loss=mnrl or mnrl_symmetric; --loss=cosine takes scored pairs.")
    if FLAGS.train_file:
        train = read_text_pairs(FLAGS.train_file, FLAGS.anchor_column, FLAGS.positive_column, FLAGS.negative_column,
                                FLAGS.score_column if scored else None, skip_bad_rows=FLAGS.skip_bad_rows)
    else:
        examples = read_glue_split("mrpc", FLAGS.data_dir, "train", skip_bad_rows=FLAGS.skip_bad_rows)["train.tsv"]
        train = glue_text_pairs(examples, positive_label=None if scored else "1")
    return train.first(FLAGS.max_train_examples) if FLAGS.max_train_examples else train


def _read_dev():
    """The scored dev pairs: --dev_file's, or all of MRPC's dev pairs scored 0/1."""
    from keras_bert.data import read_glue_split
    from keras_bert.data.text_pairs import glue_text_pairs, read_text_pairs

    if FLAGS.dev_file:
        dev = read_text_pairs(FLAGS.dev_file, FLAGS.anchor_column, FLAGS.positive_column,
                              score_column=FLAGS.score_column, skip_bad_rows=FLAGS.skip_bad_rows)
    else:
        dev = glue_text_pairs(read_glue_split("mrpc", FLAGS.data_dir, "dev",
                                              skip_bad_rows=FLAGS.skip_bad_rows)["dev.tsv"])
    return dev.first(FLAGS.max_eval_examples) if FLAGS.max_eval_examples else dev


def _dev_scores(embedder, dev, preprocessor):
    """`{spearman_cosine, pearson_cosine}`: the pairs' cosine similarities against their scores."""
    import numpy as np

    from keras_bert.metrics import pearson, spearman

    anchors = embedder.encode(dev.anchor, FLAGS.eval_batch_size, preprocessor)
    positives = embedder.encode(dev.positive, FLAGS.eval_batch_size, preprocessor)
    cosine = np.sum(anchors * positives, -1) / np.maximum(
        np.linalg.norm(anchors, axis=-1) * np.linalg.norm(positives, axis=-1), 1e-12)
    return {"spearman_cosine": spearman(cosine, dev.score), "pearson_cosine": pearson(cosine, dev.score)}


def _export(embedder, preprocessor, export_dir):
    from keras_bert.export import export_saved_model

    if not FLAGS.export_dir and os.path.isdir(export_dir):
        shutil.rmtree(export_dir)  # the previous run's, like model.keras beside it
    export_saved_model(embedder, preprocessor, export_dir)
    print(f"SavedModel (text -> embedding) in {export_dir}.")


if __name__ == "__main__":
    app.run(main)
