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
loop. Prints a Markdown table and writes --output_json.
"""

import json
import math
import os
import subprocess
import sys
import tempfile
import time

from absl import app, flags

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
flags.register_validator("data_dir", lambda v: v or FLAGS.task == "squad", "--data_dir is required for GLUE tasks.")
FLAGS = flags.FLAGS

_REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_keras_bert():
    with tempfile.TemporaryDirectory() as out:
        common = [f"--output_dir={out}", f"--max_seq_length={FLAGS.max_seq_length}",
                  f"--train_batch_size={FLAGS.train_batch_size}", f"--learning_rate={FLAGS.learning_rate}",
                  f"--num_train_epochs={FLAGS.num_train_epochs}", f"--seed={FLAGS.seed}"]
        if FLAGS.task == "squad":
            script = "run_squad.py"
            task = [f"--train_file={FLAGS.train_file}", f"--predict_file={FLAGS.predict_file}"]
        else:
            script, task = "run_classifier.py", [f"--task={FLAGS.task}", f"--data_dir={FLAGS.data_dir}"]
        start = time.time()
        subprocess.run([sys.executable, os.path.join(_REPO, "examples", script), *task, *common], check=True)
        seconds = time.time() - start
        with open(os.path.join(out, "eval_results.json")) as f:
            return json.load(f), seconds


def _torch_fine_tune(model, batches, num_examples):
    """The reference recipe: AdamW (no decay on LayerNorm and biases), 10% warmup, linear decay, clip 1.0.

    `batches(epoch)` yields keyword arguments for `model(...)`, labels included.
    """
    import torch
    import transformers

    no_decay = ("bias", "LayerNorm.weight")
    groups = [
        {"params": [p for n, p in model.named_parameters() if not n.endswith(no_decay)], "weight_decay": 0.01},
        {"params": [p for n, p in model.named_parameters() if n.endswith(no_decay)], "weight_decay": 0.0},
    ]
    optimizer = torch.optim.AdamW(groups, lr=FLAGS.learning_rate, eps=1e-6)
    steps_per_epoch = math.ceil(num_examples / FLAGS.train_batch_size)
    total = int(steps_per_epoch * FLAGS.num_train_epochs)
    schedule = transformers.get_linear_schedule_with_warmup(optimizer, int(0.1 * total), total)
    step, epoch = 0, 0
    model.train()
    while step < total:
        epoch += 1
        for kwargs in batches(epoch):
            model(**kwargs).loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            schedule.step()
            optimizer.zero_grad()
            step += 1
            if step == total:
                break
    model.eval()


def _order(num_examples, epoch):
    """A new seeded order every epoch."""
    import numpy as np

    return np.random.default_rng(FLAGS.seed + epoch).permutation(num_examples)


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

    def encode(examples, rows):
        texts = [examples.text_a[i] for i in rows]
        pairs = [examples.text_b[i] for i in rows] if examples.text_b else None
        encoded = tokenizer(texts, pairs, padding=True, truncation="longest_first",
                            max_length=FLAGS.max_seq_length, return_tensors="pt")
        dtype = torch.float if num_labels == 1 else torch.long
        return encoded, torch.tensor([examples.labels[i] for i in rows], dtype=dtype)

    def train_batches(epoch):
        order = _order(len(train), epoch)
        for start in range(0, len(order), FLAGS.train_batch_size):
            encoded, labels = encode(train, order[start : start + FLAGS.train_batch_size])
            yield dict(encoded, labels=labels)

    start = time.time()
    _torch_fine_tune(model, train_batches, len(train))
    predictions, labels = [], []
    with torch.no_grad():
        for begin in range(0, len(dev), FLAGS.train_batch_size):
            encoded, batch_labels = encode(dev, range(begin, min(begin + FLAGS.train_batch_size, len(dev))))
            logits = model(**encoded).logits
            predictions += (logits[:, 0] if num_labels == 1 else logits.argmax(-1)).tolist()
            labels += batch_labels.tolist()
    return glue_metrics(FLAGS.task, labels, np.asarray(predictions)), time.time() - start


def run_transformers_squad():
    """transformers' BertForQuestionAnswering on the very windows keras_bert trains and predicts on."""
    import numpy as np
    import tensorflow as tf
    import torch
    import transformers

    from keras_bert.checkpoints import default_checkpoint_path, default_vocab_file
    from keras_bert.data import read_squad, squad_answers, squad_features
    from keras_bert.metrics import squad_scores
    from keras_bert.text import BertTokenizer

    torch.manual_seed(FLAGS.seed)
    tf.config.set_visible_devices([], "GPU")
    model = transformers.BertForQuestionAnswering.from_pretrained(default_checkpoint_path())
    tokenizer = BertTokenizer(default_vocab_file())
    windows = dict(seq_length=FLAGS.max_seq_length, doc_stride=128, max_query_length=64)
    train = squad_features(read_squad(FLAGS.train_file), tokenizer, training=True, **windows)
    questions = read_squad(FLAGS.predict_file)
    predict = squad_features(questions, tokenizer, **windows)

    def tensors(features, rows):
        length = int(features["input_mask"][rows].sum(axis=1).max())  # trimmed to the longest row, as ours
        take = {k: torch.tensor(features[k][rows, :length], dtype=torch.long)
                for k in ("input_word_ids", "input_mask", "input_type_ids")}
        return dict(input_ids=take["input_word_ids"], attention_mask=take["input_mask"],
                    token_type_ids=take["input_type_ids"])

    def train_batches(epoch):
        order = _order(len(train["start_positions"]), epoch)
        for begin in range(0, len(order), FLAGS.train_batch_size):
            rows = order[begin : begin + FLAGS.train_batch_size]
            yield dict(tensors(train, rows), start_positions=torch.tensor(train["start_positions"][rows], dtype=torch.long),
                       end_positions=torch.tensor(train["end_positions"][rows], dtype=torch.long))

    start = time.time()
    _torch_fine_tune(model, train_batches, len(train["start_positions"]))
    starts, ends = [], []
    with torch.no_grad():
        for begin in range(0, len(predict["example_index"]), 64):
            out = model(**tensors(predict, np.arange(begin, min(begin + 64, len(predict["example_index"])))))
            pad = [(0, 0), (0, FLAGS.max_seq_length - out.start_logits.shape[1])]
            starts.append(np.pad(out.start_logits.numpy(), pad, constant_values=-1e9))
            ends.append(np.pad(out.end_logits.numpy(), pad, constant_values=-1e9))
    answers = squad_answers(questions, predict, np.concatenate(starts), np.concatenate(ends))
    scores = squad_scores({q.question_id: [text for text, _ in q.answers] for q in questions}, answers)
    return scores, time.time() - start


def main(argv):
    del argv
    runs = {"keras_bert": run_keras_bert,
            "transformers (torch)": run_transformers_squad if FLAGS.task == "squad" else run_transformers}
    results = {name: run() for name, run in runs.items() if name.split()[0] in FLAGS.libraries}
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
