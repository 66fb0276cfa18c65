"""Trains the same sentence embeddings with keras_bert and with sentence-transformers (torch), side by side.

    python benchmarks/embedding_training.py --data_dir=../shared/data/glue/mrpc --output_json=/tmp/emb.json

Both start from all-MiniLM-L6-v2 and train one epoch of MultipleNegativesRankingLoss (scale 20) on
MRPC's paraphrase pairs (label 1, 2,474 of them) with the same batch size, learning rate (AdamW,
epsilon 1e-6, weight decay 0.01 except LayerNorm and biases, linear warmup over 10% of the steps then linear
decay, gradients clipped at norm 1), maximum length and seed. keras_bert trains through
examples/train_embeddings.py (in a subprocess); sentence-transformers through its own training
loop, `SentenceTransformer.old_fit` with its `MultipleNegativesRankingLoss` (its
`SentenceTransformerTrainer` needs the `datasets` and `accelerate` packages; `old_fit` is the same
optimizer recipe on a plain torch DataLoader). Each side is scored before and after training on
all 408 MRPC dev pairs scored 0/1: spearman_cosine, the Spearman correlation of the pairs' cosine
similarities with the scores (sentence-transformers' EmbeddingSimilarityEvaluator for its side;
the script's own evaluation, which the tests hold to scipy's, for ours). Prints a Markdown table
and writes --output_json.

The epoch times are wall-clock seconds of the training loop alone: for keras_bert the script's
`Trained in` (which includes tracing the train step and one end-of-epoch checkpoint), for
sentence-transformers the `old_fit` call.
"""

import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time

from absl import app, flags

_REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

flags.DEFINE_string("data_dir", os.path.join(_REPO, "examples", "data", "mrpc"), "MRPC's train.tsv and dev.tsv.")
flags.DEFINE_list("libraries", ["keras_bert", "sentence_transformers"], "Which sides to run.")
flags.DEFINE_integer("max_seq_length", 128, "Longest text in pieces, on both sides.", lower_bound=3)
flags.DEFINE_integer("train_batch_size", 32, "Pairs per step (the in-batch negatives).", lower_bound=2)
flags.DEFINE_integer("eval_batch_size", 64, "Texts per forward pass when scoring.", lower_bound=1)
flags.DEFINE_float("learning_rate", 2e-5, "Peak learning rate.", lower_bound=0.0)
flags.DEFINE_float("warmup_proportion", 0.1, "Share of the steps with linear warmup.", lower_bound=0.0,
                   upper_bound=1.0)
flags.DEFINE_float("weight_decay", 0.01, "AdamW weight decay.", lower_bound=0.0)
flags.DEFINE_integer("seed", 42, "Data order and dropout seed.", lower_bound=0)
flags.DEFINE_integer("max_train_examples", None, "Train on the first N pairs only (smoke runs).", lower_bound=1)
flags.DEFINE_integer("max_eval_examples", None, "Score the first N dev pairs only (smoke runs).", lower_bound=1)
flags.DEFINE_string("output_json", None, "Also write the results here.")
FLAGS = flags.FLAGS


def _data():
    """`(train pairs, scored dev pairs)` as `TextPairs`, cut by the --max_*_examples flags."""
    from keras_bert.data import read_glue_split
    from keras_bert.data.text_pairs import glue_text_pairs

    train = glue_text_pairs(read_glue_split("mrpc", FLAGS.data_dir, "train")["train.tsv"], positive_label="1")
    dev = glue_text_pairs(read_glue_split("mrpc", FLAGS.data_dir, "dev")["dev.tsv"])
    if FLAGS.max_train_examples:
        train = train.first(FLAGS.max_train_examples)
    if FLAGS.max_eval_examples:
        dev = dev.first(FLAGS.max_eval_examples)
    return train, dev


def run_keras_bert(train, dev, steps):
    """`{spearman_cosine_before, spearman_cosine, epoch_seconds}` of keras_bert's side."""
    from keras_bert.checkpoints import default_checkpoint_path
    from keras_bert.metrics import spearman
    from keras_bert.models import BertTextEmbedder

    embedder = BertTextEmbedder.from_preset(default_checkpoint_path(), seq_length=FLAGS.max_seq_length)
    first, second = (embedder.encode(texts, FLAGS.eval_batch_size) for texts in (dev.anchor, dev.positive))
    before = spearman((first * second).sum(-1), dev.score)  # unit vectors: dot products are cosines
    del embedder
    with tempfile.TemporaryDirectory() as output_dir:
        command = [
            sys.executable, os.path.join(_REPO, "examples", "train_embeddings.py"), f"--output_dir={output_dir}",
            f"--data_dir={FLAGS.data_dir}", "--loss=mnrl", f"--max_seq_length={FLAGS.max_seq_length}",
            f"--train_batch_size={FLAGS.train_batch_size}", f"--eval_batch_size={FLAGS.eval_batch_size}",
            f"--learning_rate={FLAGS.learning_rate}", f"--warmup_proportion={FLAGS.warmup_proportion}",
            f"--weight_decay={FLAGS.weight_decay}", f"--seed={FLAGS.seed}", "--num_train_epochs=1",
            f"--max_train_examples={len(train)}", f"--max_eval_examples={len(dev)}",
        ]
        print(" ".join(command[1:]), flush=True)
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode:
            sys.exit(f"train_embeddings.py failed:\n{result.stderr[-3000:]}")
        if f"for {steps} steps" not in result.stdout:
            sys.exit(f"train_embeddings.py did not train {steps} steps:\n{result.stdout[-2000:]}")
        seconds = float(re.search(r"Trained in (\d+) s", result.stdout).group(1))
        with open(os.path.join(output_dir, "eval_results.json")) as f:
            after = json.load(f)["spearman_cosine"]
    return {"spearman_cosine_before": before, "spearman_cosine": after, "epoch_seconds": seconds}


def run_sentence_transformers(train, dev, steps):
    """`{spearman_cosine_before, spearman_cosine, epoch_seconds}` of sentence-transformers' side."""
    import torch
    from sentence_transformers import InputExample, SentenceTransformer
    from sentence_transformers.sentence_transformer.evaluation import EmbeddingSimilarityEvaluator
    from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss

    from keras_bert.checkpoints import default_checkpoint_path

    torch.manual_seed(FLAGS.seed)
    model = SentenceTransformer(str(default_checkpoint_path()), device="cpu")
    model.max_seq_length = FLAGS.max_seq_length
    evaluator = EmbeddingSimilarityEvaluator(dev.anchor, dev.positive, dev.score, batch_size=FLAGS.eval_batch_size,
                                             name="mrpc_dev", write_csv=False)
    before = evaluator(model)["mrpc_dev_spearman_cosine"]
    rows = [InputExample(texts=[anchor, positive]) for anchor, positive in zip(train.anchor, train.positive)]
    loader = torch.utils.data.DataLoader(rows, batch_size=FLAGS.train_batch_size, shuffle=True,
                                         generator=torch.Generator().manual_seed(FLAGS.seed))
    assert len(loader) == steps, (len(loader), steps)
    start = time.time()
    model.old_fit(
        train_objectives=[(loader, MultipleNegativesRankingLoss(model, scale=20.0))], epochs=1,
        warmup_steps=int(steps * FLAGS.warmup_proportion),
        optimizer_params={"lr": FLAGS.learning_rate, "eps": 1e-6},  # keras_bert's AdamW epsilon
        weight_decay=FLAGS.weight_decay, max_grad_norm=1.0, show_progress_bar=False,
    )
    seconds = time.time() - start
    after = evaluator(model)["mrpc_dev_spearman_cosine"]
    return {"spearman_cosine_before": before, "spearman_cosine": after, "epoch_seconds": seconds}


def environment():
    """The versions and machine the numbers come from."""
    import tensorflow as tf
    import torch

    try:
        import sentence_transformers

        st_version = sentence_transformers.__version__
    except ImportError:
        st_version = None
    return {"python": platform.python_version(), "tensorflow": tf.__version__, "torch": torch.__version__,
            "sentence_transformers": st_version, "cpu_count": os.cpu_count(), "machine": platform.machine()}


def main(argv):
    del argv
    from keras_bert.training import training_steps

    unknown = set(FLAGS.libraries) - {"keras_bert", "sentence_transformers"}
    if unknown:
        sys.exit(f"--libraries: unknown {sorted(unknown)}; use keras_bert and/or sentence_transformers.")
    train, dev = _data()
    steps = training_steps(len(train), FLAGS.train_batch_size, 1, FLAGS.warmup_proportion).total_steps
    print(f"{len(train)} training pairs ({steps} steps of {FLAGS.train_batch_size}), {len(dev)} dev pairs.", flush=True)
    runs = {"keras_bert": run_keras_bert, "sentence_transformers": run_sentence_transformers}
    results = {}
    for name in FLAGS.libraries:
        results[name] = runs[name](train, dev, steps)
        # Other work on the machine slows the epoch: the load average says how much there was.
        results[name]["load_average_1min_after"] = os.getloadavg()[0]
    settings = {name: FLAGS[name].value for name in ("data_dir", "max_seq_length", "train_batch_size",
                                                      "learning_rate", "warmup_proportion", "weight_decay", "seed")}
    report = {"settings": {**settings, "train_pairs": len(train), "dev_pairs": len(dev), "steps": steps},
              "environment": environment(), "results": results}
    print("\n| library | dev spearman_cosine before | after | epoch (s) |\n|---|---|---|---|")
    for name, values in results.items():
        print(f"| {name} | {100 * values['spearman_cosine_before']:.2f} | {100 * values['spearman_cosine']:.2f} | "
              f"{values['epoch_seconds']:.0f} |")
    if FLAGS.output_json:
        with open(FLAGS.output_json, "w") as f:
            json.dump(report, f, indent=2)


if __name__ == "__main__":
    app.run(main)
