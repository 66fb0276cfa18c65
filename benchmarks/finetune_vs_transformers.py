"""Fine-tunes the same weights on the same data with keras_bert and with transformers (torch).

    python benchmarks/finetune_vs_transformers.py --task=mrpc \
        --data_dir=../shared/data/glue/mrpc --num_train_epochs=3 --max_seq_length=128

Both use all-MiniLM-L6-v2, AdamW (lr, eps 1e-6, weight decay 0.01 except
LayerNorm and biases), 10% linear warmup then linear decay, clipping at 1.0,
the same batch size, sequence length, epochs and seed, and GLUE's metrics on
the dev set. keras_bert runs through examples/run_classifier.py; transformers
through its BertForSequenceClassification with a plain PyTorch loop. Prints a
Markdown table and writes --output_json.
"""

import json
import math
import os
import subprocess
import sys
import tempfile
import time

from absl import app, flags

flags.DEFINE_string("task", "sst2", "GLUE task.")
flags.DEFINE_string("data_dir", None, "Folder with the task's train.tsv/dev.tsv.")
flags.DEFINE_integer("max_seq_length", 128, "")
flags.DEFINE_integer("train_batch_size", 32, "")
flags.DEFINE_float("learning_rate", 5e-5, "")
flags.DEFINE_float("num_train_epochs", 3.0, "")
flags.DEFINE_integer("seed", 42, "")
flags.DEFINE_string("output_json", None, "")
flags.mark_flags_as_required(["data_dir"])
FLAGS = flags.FLAGS

_REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_keras_bert():
    with tempfile.TemporaryDirectory() as out:
        start = time.time()
        subprocess.run(
            [sys.executable, os.path.join(_REPO, "examples/run_classifier.py"), f"--task={FLAGS.task}",
             f"--data_dir={FLAGS.data_dir}", f"--output_dir={out}", f"--max_seq_length={FLAGS.max_seq_length}",
             f"--train_batch_size={FLAGS.train_batch_size}", f"--learning_rate={FLAGS.learning_rate}",
             f"--num_train_epochs={FLAGS.num_train_epochs}", f"--seed={FLAGS.seed}"],
            check=True,
        )
        seconds = time.time() - start
        with open(os.path.join(out, "eval_results.json")) as f:
            return json.load(f), seconds


def run_transformers():
    import numpy as np
    import torch
    import transformers

    from keras_bert.checkpoints import default_checkpoint_path
    from keras_bert.data import GLUE_TASKS, read_glue_split
    from keras_bert.metrics import glue_metrics

    torch.manual_seed(FLAGS.seed)
    path = default_checkpoint_path()
    tokenizer = transformers.BertTokenizerFast.from_pretrained(path)
    num_labels = max(len(GLUE_TASKS[FLAGS.task].labels), 1)
    model = transformers.BertForSequenceClassification.from_pretrained(path, num_labels=num_labels)
    train = read_glue_split(FLAGS.task, FLAGS.data_dir, "train")["train.tsv"]
    dev = next(iter(read_glue_split(FLAGS.task, FLAGS.data_dir, "dev").values()))

    def batches(examples, shuffle, epoch=0):
        rng = np.random.default_rng(FLAGS.seed + epoch)  # a new order every epoch
        order = rng.permutation(len(examples)) if shuffle else np.arange(len(examples))
        for start in range(0, len(order), FLAGS.train_batch_size):
            rows = order[start : start + FLAGS.train_batch_size]
            texts = [examples.text_a[i] for i in rows]
            pairs = [examples.text_b[i] for i in rows] if examples.text_b else None
            encoded = tokenizer(texts, pairs, padding=True, truncation="longest_first",
                                max_length=FLAGS.max_seq_length, return_tensors="pt")
            dtype = torch.float if num_labels == 1 else torch.long
            yield encoded, torch.tensor([examples.labels[i] for i in rows], dtype=dtype)

    no_decay = ("bias", "LayerNorm.weight")
    groups = [
        {"params": [p for n, p in model.named_parameters() if not n.endswith(no_decay)], "weight_decay": 0.01},
        {"params": [p for n, p in model.named_parameters() if n.endswith(no_decay)], "weight_decay": 0.0},
    ]
    optimizer = torch.optim.AdamW(groups, lr=FLAGS.learning_rate, eps=1e-6)
    steps_per_epoch = math.ceil(len(train) / FLAGS.train_batch_size)
    total = int(steps_per_epoch * FLAGS.num_train_epochs)
    schedule = transformers.get_linear_schedule_with_warmup(optimizer, int(0.1 * total), total)
    start, step, epoch = time.time(), 0, 0
    model.train()
    while step < total:
        epoch += 1
        for encoded, labels in batches(train, shuffle=True, epoch=epoch):
            loss = model(**encoded, labels=labels).loss
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            schedule.step()
            optimizer.zero_grad()
            step += 1
            if step == total:
                break
    seconds = time.time() - start
    model.eval()
    predictions, labels = [], []
    with torch.no_grad():
        for encoded, batch_labels in batches(dev, shuffle=False):
            logits = model(**encoded).logits
            predictions += (logits[:, 0] if num_labels == 1 else logits.argmax(-1)).tolist()
            labels += batch_labels.tolist()
    return glue_metrics(FLAGS.task, labels, predictions), seconds


def main(argv):
    del argv
    results = {"keras_bert": run_keras_bert(), "transformers (torch)": run_transformers()}
    print(f"\n{FLAGS.task}: {FLAGS.num_train_epochs:g} epochs, seq {FLAGS.max_seq_length}, "
          f"batch {FLAGS.train_batch_size}, lr {FLAGS.learning_rate:g}\n")
    names = list(next(iter(results.values()))[0])
    print("| library | " + " | ".join(names) + " | train + eval s |\n|---|" + "---|" * (len(names) + 1))
    for library, (metrics, seconds) in results.items():
        print(f"| {library} | " + " | ".join(f"{metrics[n]:.4f}" for n in names) + f" | {seconds:.0f} |")
    if FLAGS.output_json:
        with open(FLAGS.output_json, "w") as f:
            json.dump({k: {"metrics": m, "seconds": s} for k, (m, s) in results.items()}, f, indent=2)


if __name__ == "__main__":
    app.run(main)
