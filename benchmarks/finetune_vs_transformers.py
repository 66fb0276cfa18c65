"""Fine-tunes the same weights on the same data with keras_bert and with transformers (torch).

    python benchmarks/finetune_vs_transformers.py --task=mrpc \
        --data_dir=../shared/data/glue/mrpc --num_train_epochs=3 --max_seq_length=128
    python benchmarks/finetune_vs_transformers.py --task=squad --num_train_epochs=2 \
        --max_seq_length=384 --train_file=../shared/data/squad/train.json \
        --predict_file=../shared/data/squad/dev.json

Both use all-MiniLM-L6-v2, AdamW (lr, eps 1e-6, weight decay 0.01 except
LayerNorm and biases), 10% linear warmup then linear decay, clipping at 1.0,
the same batch size, sequence length, epochs and seed, and GLUE's metrics on
the dev set. keras_bert runs through examples/run_classifier.py (run_squad.py);
transformers through its BertForSequenceClassification (BertForQuestionAnswering,
fed keras_bert's own SQuAD windows and scored by the same n-best search and
official rules, so only the model and training differ) with a plain PyTorch
loop (torch_reference.py). Prints a Markdown table and writes --output_json.

`--task=squad --lockstep` trains both in one loop instead: dropout off
(`--lockstep_dropout`), keras_bert's span head set to transformers'
seeded init, every batch fed to both, each step's two losses printed, then
both scored. Without dropout and random order left to differ, any gap in
the scores comes from the libraries' arithmetic.

The SQuAD reference can train elsewhere (a GPU box without TensorFlow):
write the windows with `--libraries= --save_squad_windows=W.npz`, run
torch_reference.py there, then score its logits here with
`--libraries=transformers --transformers_logits=squad_logits_lr<LR>.npz`.
"""

import dataclasses
import functools
import itertools
import json
import os
import subprocess
import sys
import tempfile
import time

from absl import app, flags

from torch_reference import (
    epoch_order,
    fine_tune,
    fine_tune_steps,
    save_squad_windows,
    squad_batches,
    squad_fine_tune_and_predict,
    squad_model,
    squad_predict,
    squad_train_batches,
)

flags.DEFINE_string("task", "sst2", "GLUE task, or squad.")
flags.DEFINE_string("data_dir", None, "GLUE: folder with the task's train.tsv/dev.tsv.")
flags.DEFINE_string("train_file", None, "squad: SQuAD JSON to train on.")
flags.DEFINE_string("predict_file", None, "squad: SQuAD JSON to score.")
flags.DEFINE_list("libraries", ["keras_bert", "transformers"], "Which sides to run.")
flags.DEFINE_integer("max_seq_length", 128, "")
flags.DEFINE_integer("train_batch_size", 32, "")
flags.DEFINE_float("learning_rate", 5e-5, "")
flags.DEFINE_float("num_train_epochs", 3.0, "")
flags.DEFINE_integer("seed", 42, "")
flags.DEFINE_string("output_json", None, "")
flags.DEFINE_string("save_squad_windows", None,
                    "squad: also write the train/predict windows here, for torch_reference.py on another machine.")
flags.DEFINE_string("transformers_logits", None,
                    "squad: score these logits (torch_reference.py's output, mean over its seeds) instead of "
                    "training the transformers side here.")
flags.DEFINE_bool("lockstep", False,
                  "squad: train both libraries in one loop on the same batches from the same span-head init, "
                  "printing both losses every step (see --lockstep_dropout). With --libraries=keras_bert "
                  "only keras_bert trains, on transformers' batch order and head init.")
flags.DEFINE_float("lockstep_dropout", 0.0,
                   "--lockstep: dropout rate on both sides; at 0 the two runs differ only by float round-off.")
flags.register_multi_flags_validator(["data_dir", "task"], lambda v: v["data_dir"] or v["task"] == "squad",
                                     "--data_dir is required for GLUE tasks.")
FLAGS = flags.FLAGS

_REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@dataclasses.dataclass(frozen=True)
class Settings:
    """The flags' values, read once in main() and passed to the runs."""

    task: str
    data_dir: str
    train_file: str
    predict_file: str
    libraries: tuple
    max_seq_length: int
    train_batch_size: int
    learning_rate: float
    num_train_epochs: float
    seed: int
    output_json: str
    transformers_logits: str
    lockstep_dropout: float


def run_keras_bert(settings):
    with tempfile.TemporaryDirectory() as out:
        common = [f"--output_dir={out}", f"--max_seq_length={settings.max_seq_length}",
                  f"--train_batch_size={settings.train_batch_size}", f"--learning_rate={settings.learning_rate}",
                  f"--num_train_epochs={settings.num_train_epochs}", f"--seed={settings.seed}"]
        if settings.task == "squad":
            script = "run_squad.py"
            task = [f"--train_file={settings.train_file}", f"--predict_file={settings.predict_file}"]
        else:
            script, task = "run_classifier.py", [f"--task={settings.task}", f"--data_dir={settings.data_dir}"]
        start = time.time()
        subprocess.run([sys.executable, os.path.join(_REPO, "examples", script), *task, *common], check=True)
        seconds = time.time() - start
        with open(os.path.join(out, "eval_results.json")) as f:
            return json.load(f), seconds


def run_transformers(settings):
    import numpy as np
    import torch
    import transformers

    from keras_bert.checkpoints import default_checkpoint_path
    from keras_bert.data import GLUE_TASKS, read_glue_split
    from keras_bert.metrics import glue_metrics

    torch.manual_seed(settings.seed)
    path = default_checkpoint_path()
    tokenizer = transformers.BertTokenizerFast.from_pretrained(path)
    num_labels = max(len(GLUE_TASKS[settings.task].labels), 1)
    model = transformers.BertForSequenceClassification.from_pretrained(path, num_labels=num_labels)
    train = read_glue_split(settings.task, settings.data_dir, "train")["train.tsv"]
    dev = next(iter(read_glue_split(settings.task, settings.data_dir, "dev").values()))

    def encode(examples, rows):
        texts = [examples.text_a[i] for i in rows]
        pairs = [examples.text_b[i] for i in rows] if examples.text_b else None
        encoded = tokenizer(texts, pairs, padding=True, truncation="longest_first",
                            max_length=settings.max_seq_length, return_tensors="pt")
        dtype = torch.float if num_labels == 1 else torch.long
        return encoded, torch.tensor([examples.labels[i] for i in rows], dtype=dtype)

    def train_batches(epoch):
        order = epoch_order(len(train), settings.seed, epoch)
        for start in range(0, len(order), settings.train_batch_size):
            encoded, labels = encode(train, order[start : start + settings.train_batch_size])
            yield dict(encoded, labels=labels)

    start = time.time()
    fine_tune(model, train_batches, len(train), settings.learning_rate, settings.num_train_epochs, settings.train_batch_size)
    predictions, labels = [], []
    with torch.no_grad():
        for begin in range(0, len(dev), settings.train_batch_size):
            encoded, batch_labels = encode(dev, range(begin, min(begin + settings.train_batch_size, len(dev))))
            logits = model(**encoded).logits
            predictions += (logits[:, 0] if num_labels == 1 else logits.argmax(-1)).tolist()
            labels += batch_labels.tolist()
    return glue_metrics(settings.task, labels, np.asarray(predictions)), time.time() - start


@functools.cache  # --save_squad_windows and the transformers side share one featurization
def _squad_windows(settings):
    """keras_bert's SQuAD windows (run_squad.py's defaults): (dev questions, train windows, dev windows)."""
    import tensorflow as tf

    from keras_bert.checkpoints import default_vocab_file
    from keras_bert.data import read_squad, squad_features
    from keras_bert.text import BertTokenizer

    tf.config.set_visible_devices([], "GPU")
    tokenizer = BertTokenizer(default_vocab_file())
    windows = dict(seq_length=settings.max_seq_length, doc_stride=128, max_query_length=64)
    train = squad_features(read_squad(settings.train_file), tokenizer, training=True, **windows)
    questions = read_squad(settings.predict_file)
    return questions, train, squad_features(questions, tokenizer, **windows)


def run_transformers_squad(settings):
    """transformers' BertForQuestionAnswering on the very windows keras_bert trains and predicts on."""
    import numpy as np

    from keras_bert.checkpoints import default_checkpoint_path
    from keras_bert.data import squad_answers
    from keras_bert.metrics import squad_scores

    questions, train, predict = _squad_windows(settings)
    references = {q.question_id: [text for text, _ in q.answers] for q in questions}

    def score(starts, ends):
        return squad_scores(references, squad_answers(questions, predict, starts, ends))

    start = time.time()
    if not settings.transformers_logits:
        scores = score(*squad_fine_tune_and_predict(
            default_checkpoint_path(), train, predict, settings.learning_rate, settings.num_train_epochs,
            settings.train_batch_size, settings.seed))
        return scores, time.time() - start
    with np.load(settings.transformers_logits) as logits:
        seeds = sorted(k[len("start_"):] for k in logits.files if k.startswith("start_"))
        runs = [score(logits[f"start_{seed}"], logits[f"end_{seed}"]) for seed in seeds]
    for seed, scores in zip(seeds, runs):
        print(f"transformers, seed {seed}: " + ", ".join(f"{k} {v:.2f}" for k, v in scores.items()))
    return {k: float(np.mean([r[k] for r in runs])) for k in runs[0]}, float("nan")


def run_squad_lockstep(settings):
    """Both libraries step by step on identical batches; returns {library: (scores, seconds)}."""
    import keras
    import numpy as np

    from keras_bert import BertEncoder, BertSpanLabeler, read_checkpoint
    from keras_bert.checkpoints import default_checkpoint_path
    from keras_bert.checkpoints.bert_checkpoint import assign_weights
    from keras_bert.data import squad_answers, squad_dataset
    from keras_bert.metrics import squad_scores
    from keras_bert.training import compile_for_fine_tuning, predict_logits, training_steps

    questions, train, predict = _squad_windows(settings)
    references = {q.question_id: [text for text, _ in q.answers] for q in questions}
    dropout = dict(hidden_dropout_prob=settings.lockstep_dropout, attention_probs_dropout_prob=settings.lockstep_dropout)
    reference = squad_model(default_checkpoint_path(), settings.seed, **dropout)
    checkpoint = read_checkpoint(default_checkpoint_path())
    encoder = BertEncoder.from_bert_config(dataclasses.replace(checkpoint.config, **dropout))
    assign_weights(encoder, checkpoint.weights, checkpoint.source)
    model = BertSpanLabeler(encoder)
    head = model.get_layer("span_logits")
    head.kernel.assign(reference.qa_outputs.weight.detach().numpy().T)
    head.bias.assign(reference.qa_outputs.bias.detach().numpy())
    windows = len(train["start_positions"])
    # transformers' schedule: warmup int(10% of total steps), as torch_reference.fine_tune_steps.
    steps = training_steps(windows, settings.train_batch_size, settings.num_train_epochs, 0.1)
    compile_for_fine_tuning(
        model, {name: keras.losses.SparseCategoricalCrossentropy(from_logits=True)
                for name in ("start_logits", "end_logits")},
        settings.learning_rate, steps.total_steps, steps.warmup_steps,
        loss_weights={"start_logits": 0.5, "end_logits": 0.5})

    def our_losses():
        batches = (batch for epoch in range(1, steps.epochs + 1)
                   for batch in squad_batches(train, settings.seed, settings.train_batch_size, epoch))
        for inputs, starts, ends in itertools.islice(batches, steps.total_steps):
            yield float(model.train_on_batch(inputs, {"start_logits": starts, "end_logits": ends},
                                             return_dict=True)["loss"])

    seconds = {"keras_bert": 0.0, "transformers (torch)": 0.0}

    def timed(name, losses):
        while True:
            start = time.time()
            loss = next(losses, None)
            seconds[name] += time.time() - start
            if loss is None:
                return
            yield loss

    print(f"Lockstep: {steps.total_steps} steps ({steps.warmup_steps} warmup), dropout {settings.lockstep_dropout}.")
    ours_only = "transformers" not in settings.libraries
    if ours_only:  # transformers' model only lends its head init
        print("step | keras_bert loss")
        for step, loss in enumerate(timed("keras_bert", our_losses()), 1):
            print(f"{step} | {loss:.6f}", flush=True)
    else:
        print("step | keras_bert loss | transformers loss | difference")
        differences = []
        torch_losses = fine_tune_steps(reference, squad_train_batches(train, settings.seed, settings.train_batch_size),
                                       windows, settings.learning_rate, settings.num_train_epochs, settings.train_batch_size)
        pairs = zip(timed("keras_bert", our_losses()), timed("transformers (torch)", torch_losses))
        for step, (ours, theirs) in enumerate(pairs, 1):
            differences.append(abs(ours - theirs))
            print(f"{step} | {ours:.6f} | {theirs:.6f} | {ours - theirs:+.2e}", flush=True)
        print(f"Largest loss difference: {max(differences):.2e}; median {np.median(differences):.2e}.")

    def score(starts, ends):
        return squad_scores(references, squad_answers(questions, predict, starts, ends))

    start = time.time()
    logits = predict_logits(model, squad_dataset(predict, 64))
    ours = score(logits["start_logits"], logits["end_logits"])
    seconds["keras_bert"] += time.time() - start
    if ours_only:
        return {"keras_bert": (ours, seconds["keras_bert"])}
    start = time.time()
    theirs = score(*squad_predict(reference, predict))
    seconds["transformers (torch)"] += time.time() - start
    return {"keras_bert": (ours, seconds["keras_bert"]),
            "transformers (torch)": (theirs, seconds["transformers (torch)"])}


def main(argv):
    del argv
    values = {field.name: FLAGS[field.name].value for field in dataclasses.fields(Settings)}
    settings = Settings(**{**values, "libraries": tuple(FLAGS.libraries)})  # hashable: `_squad_windows` caches
    if FLAGS.lockstep:
        if FLAGS.task != "squad":
            sys.exit("--lockstep is for --task=squad.")
        results = run_squad_lockstep(settings)
        _print_table(results, settings)
        return
    runs = {"keras_bert": run_keras_bert,
            "transformers (torch)": run_transformers_squad if FLAGS.task == "squad" else run_transformers}
    if FLAGS.save_squad_windows:
        save_squad_windows(FLAGS.save_squad_windows, *_squad_windows(settings)[1:])
        print(f"Wrote {FLAGS.save_squad_windows}.")
    results = {name: run(settings) for name, run in runs.items() if name.split()[0] in FLAGS.libraries}
    if results:
        _print_table(results, settings)


def _print_table(results, settings):
    """Prints {library: (metrics, seconds)} as Markdown; writes `settings.output_json`."""
    print(f"\n{settings.task}: {settings.num_train_epochs:g} epochs, seq {settings.max_seq_length}, "
          f"batch {settings.train_batch_size}, lr {settings.learning_rate:g}\n")
    names = list(next(iter(results.values()))[0])
    print("| library | " + " | ".join(names) + " | train + eval s |\n|---|" + "---|" * (len(names) + 1))
    for library, (metrics, seconds) in results.items():
        print(f"| {library} | " + " | ".join(f"{metrics[n]:.4f}" for n in names) + f" | {seconds:.0f} |")
    if settings.output_json:
        with open(settings.output_json, "w") as f:
            json.dump({k: {"metrics": m, "seconds": s} for k, (m, s) in results.items()}, f, indent=2)


if __name__ == "__main__":
    app.run(main)
