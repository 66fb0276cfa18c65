"""Pretrains the same BERT with examples/run_pretraining.py and with a transformers loop, for the same wall time.

    python benchmarks/pretraining_time_to_quality.py                    # 5 minutes a run, fp32 and bf16
    python benchmarks/pretraining_time_to_quality.py --budget_minutes=1 --precisions=float32 --train_files=\
        examples/data/wiki_sample/train.txt --eval_files=examples/data/wiki_sample/heldout.txt   # a smoke run

Both sides get the same instances (create_pretraining_data.py's sentence pairs with next-sentence
labels, made once from --train_files), vocabulary (BERT uncased), model shape, batch size, sequence
length, masking rate (15% of the pieces, 80/10/10), optimizer settings (AdamW with epsilon 1e-6,
weight decay 0.01 except LayerNorm and biases, gradients clipped at norm 1, linear warmup over 10% of
the steps then linear decay) and wall-clock budget. Each side first measures its own speed over a
few dozen steps and then trains for the number of steps that fills the budget, so its learning
rate schedule ends when the budget does.

- keras_bert: examples/run_pretraining.py as users run it (dynamic masking in the tf.data
  pipeline, checkpoints and logs included), with --eval_every_steps for the held-out curve.
- transformers: `BertForPreTraining` trained by a plain PyTorch loop as in transformers' own MLM
  example script (run_mlm_no_trainer.py): AdamW, `get_linear_schedule_with_warmup`, and
  `DataCollatorForLanguageModeling`'s masking of each batch; under bfloat16, `torch.autocast`, as
  the Trainer's `--bf16` does on a CPU. The loss is transformers' own: masked LM plus next sentence.

Both are scored on the same held-out batches, masked once by our pipeline (the ones
run_pretraining.py scores): accuracy and mean cross-entropy over the masked positions. The clock
counts only training (compiling and checkpointing included); evaluation is left out of it.
Time to quality: the training time at which our held-out MLM accuracy first reaches the
transformers run's final accuracy (linear between evaluations), as a share of that run's time.
Writes --output_dir/time_to_quality.json, .png and .md.
"""

import json
import os
import platform
import subprocess
import sys
import time

from absl import app, flags

_REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_EXAMPLES = os.path.join(_REPO, "examples")
_WIKI = os.path.join(os.path.dirname(_REPO), "shared", "data", "wiki")
PRECISIONS = ("float32", "bfloat16")
SIDES = ("keras_bert", "transformers")

flags.DEFINE_string("train_files", os.path.join(_WIKI, "wiki_[01]*"), "Text to pretrain on (globs).")
flags.DEFINE_string("eval_files", os.path.join(_WIKI, "wiki_31"), "Held-out text.")
flags.DEFINE_string("work_dir", "/tmp/keras_bert_time_to_quality", "Instances, runs and logs.")
flags.DEFINE_string("output_dir", os.path.join(_REPO, "reports", "pretraining_time_to_quality"),
                    "Where the JSON, plot and Markdown table go.")
flags.DEFINE_list("precisions", list(PRECISIONS), "float32 and/or bfloat16.")
flags.DEFINE_list("sides", list(SIDES), "keras_bert and/or transformers.")
flags.DEFINE_float("budget_minutes", 5.0, "Training wall time of each run.", lower_bound=0.1)
flags.DEFINE_enum("model_size", "tiny", ["tiny", "mini", "small"], "run_pretraining.py's --model_size.")
flags.DEFINE_integer("max_seq_length", 64, "", lower_bound=8)
flags.DEFINE_integer("train_batch_size", 32, "", lower_bound=1)
flags.DEFINE_float("learning_rate", 1e-3, "Peak learning rate.", lower_bound=0.0)
flags.DEFINE_integer("evaluations", 10, "Held-out evaluations per run, evenly spaced.", lower_bound=1)
flags.DEFINE_integer("eval_batches", 32, "Held-out batches of 64 sequences.", lower_bound=1)
flags.DEFINE_integer("calibration_steps", 40, "Steps of each speed measurement (after as many to warm up).",
                     lower_bound=5)
flags.DEFINE_integer("seed", 12345, "", lower_bound=0)
flags.DEFINE_string("child", None, "Internal: run the transformers side from this JSON job file.")
FLAGS = flags.FLAGS

_EVAL_BATCH_SIZE = 64
_SIZES = {"tiny": (2, 128, 2), "mini": (4, 256, 4), "small": (4, 512, 8)}  # run_pretraining.py's MODEL_SIZES


def _max_predictions(seq_length):
    return max(1, round(0.15 * seq_length))


def _run(args, log_path):
    """Runs a command, its output to `log_path`; exits naming the log if it fails."""
    os.makedirs(os.path.dirname(log_path), exist_ok=True)
    with open(log_path, "w") as log:
        code = subprocess.call(args, stdout=log, stderr=subprocess.STDOUT, cwd=_EXAMPLES)
    if code:
        with open(log_path) as f:
            tail = "".join(f.readlines()[-15:])
        sys.exit(f"pretraining_time_to_quality.py: {' '.join(args[:2])} failed ({log_path}):\n{tail}")


def make_instances(work_dir):
    """Train and held-out instance files, made once by create_pretraining_data.py."""
    paths = {}
    for name, files in (("train", FLAGS.train_files), ("eval", FLAGS.eval_files)):
        files = ",".join(os.path.abspath(pattern) for pattern in files.split(","))  # the script runs in examples/
        paths[name] = os.path.join(work_dir, "data", f"{name}.tfrecord")
        if not os.path.exists(paths[name]):
            os.makedirs(os.path.dirname(paths[name]), exist_ok=True)
            print(f"Making {name} instances from {files} ...", flush=True)
            _run([sys.executable, "create_pretraining_data.py", f"--input_file={files}",
                  f"--output_file={paths[name]}.partial", f"--max_seq_length={FLAGS.max_seq_length}",
                  "--dupe_factor=1", f"--random_seed={FLAGS.seed}"], paths[name] + ".log")
            os.rename(paths[name] + ".partial", paths[name])
    return paths


def _masking():
    from keras_bert.data import MaskingOptions
    from keras_bert.presets import default_vocab_file

    return MaskingOptions.from_vocab_file(default_vocab_file(),
                                          max_predictions_per_seq=_max_predictions(FLAGS.max_seq_length))


def heldout_batches(eval_file, path):
    """The held-out batches run_pretraining.py scores (same masks), saved once as .npz for the other side."""
    import numpy as np

    from keras_bert.data import pretraining_dataset

    if not os.path.exists(path):
        data = pretraining_dataset([eval_file], _EVAL_BATCH_SIZE, FLAGS.max_seq_length, _masking(), training=False)
        arrays = {}
        for inputs, labels, weights in data.take(FLAGS.eval_batches):
            for name, value in {**inputs, "masked_lm_ids": labels["mlm"], "masked_lm_weights": weights["mlm"],
                                "next_sentence_labels": labels["nsp"]}.items():
                arrays.setdefault(name, []).append(value.numpy())
        np.savez(path, **{name: np.concatenate(parts) for name, parts in arrays.items()})
    return path


def _pretraining_flags(model_dir, instances, steps, precision, evaluations):
    every = max(1, steps // evaluations)
    return [
        sys.executable, "run_pretraining.py", f"--input_files={instances['train']}",
        f"--eval_input_files={instances['eval']}", f"--model_dir={model_dir}", f"--model_size={FLAGS.model_size}",
        f"--max_seq_length={FLAGS.max_seq_length}", f"--max_predictions_per_seq={_max_predictions(FLAGS.max_seq_length)}",
        f"--train_batch_size={FLAGS.train_batch_size}", f"--num_train_steps={steps}",
        f"--num_warmup_steps={max(1, steps // 10)}", f"--learning_rate={FLAGS.learning_rate}",
        f"--steps_per_loop={every}", f"--save_checkpoints_steps={every * max(1, evaluations // 2)}",
        f"--eval_every_steps={every}", f"--eval_batch_size={_EVAL_BATCH_SIZE}", f"--max_eval_steps={FLAGS.eval_batches}",
        f"--mixed_precision={precision}", f"--seed={FLAGS.seed}", "--check_input_files=false",
    ]


def _read_jsonl(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def run_keras_bert(instances, precision, work_dir):
    """Calibrates, then trains for the budget; returns the held-out curve."""
    run_dir = os.path.join(work_dir, f"keras_bert_{precision}")
    calibration_dir = os.path.join(run_dir, "calibration")
    n = FLAGS.calibration_steps
    if not os.path.exists(os.path.join(calibration_dir, "metrics.jsonl")):
        args = _pretraining_flags(calibration_dir, instances, 3 * n, precision, 1)
        args = [a for a in args if not a.startswith(("--steps_per_loop", "--save_checkpoints", "--eval_every"))]
        _run(args + [f"--steps_per_loop={n}", f"--save_checkpoints_steps={3 * n}", "--do_eval=false"],
             os.path.join(run_dir, "calibration.log"))
    rows = _read_jsonl(os.path.join(calibration_dir, "metrics.jsonl"))
    rate = min(row["sequences_per_second"] for row in rows[1:]) / FLAGS.train_batch_size  # loop 1 compiles
    steps = max(FLAGS.evaluations, int(rate * FLAGS.budget_minutes * 60))
    model_dir = os.path.join(run_dir, "run")
    print(f"keras_bert {precision}: {rate:.1f} steps/s measured; {steps} steps for the budget ...", flush=True)
    if not os.path.exists(os.path.join(model_dir, "eval_results.json")):
        _run(_pretraining_flags(model_dir, instances, steps, precision, FLAGS.evaluations),
             os.path.join(run_dir, "run.log"))
    curve = [{"step": int(row["step"]), "train_seconds": row["train_seconds"],
              "mlm_accuracy": row["eval_mlm_accuracy"], "mlm_loss": row["eval_mlm_loss"]}
             for row in _read_jsonl(os.path.join(model_dir, "metrics.jsonl")) if "eval_mlm_accuracy" in row]
    return {"calibrated_steps_per_second": rate, "steps": steps, "curve": curve}


def run_transformers(instances, precision, heldout, work_dir):
    """The transformers side, in a fresh process that imports no TensorFlow."""
    run_dir = os.path.join(work_dir, f"transformers_{precision}")
    result_path = os.path.join(run_dir, "result.json")
    if not os.path.exists(result_path):
        os.makedirs(run_dir, exist_ok=True)
        from keras_bert.presets import default_vocab_file

        train = instances["train"].replace(".tfrecord", ".npz")
        if not os.path.exists(train):
            _save_instances(instances["train"], train)
        job = {"train": train, "heldout": heldout, "vocab_file": default_vocab_file(), "precision": precision,
               "result": result_path, "budget_seconds": FLAGS.budget_minutes * 60}
        job_path = os.path.join(run_dir, "job.json")
        with open(job_path, "w") as f:
            json.dump(job, f)
        print(f"transformers {precision}: training ...", flush=True)
        flag_values = [f"--{name}={FLAGS[name].value}" for name in (
            "model_size", "max_seq_length", "train_batch_size", "learning_rate", "evaluations",
            "calibration_steps", "seed")]
        _run([sys.executable, os.path.abspath(__file__), f"--child={job_path}"] + flag_values,
             os.path.join(run_dir, "run.log"))
    with open(result_path) as f:
        return json.load(f)


def _save_instances(path, output):
    """input_ids, input_mask, segment_ids and next_sentence_labels of a TFRecord file, as an .npz file."""
    import numpy as np
    import tensorflow as tf

    spec = {name: tf.io.FixedLenFeature([FLAGS.max_seq_length], tf.int64)
            for name in ("input_ids", "input_mask", "segment_ids")}
    spec["next_sentence_labels"] = tf.io.FixedLenFeature([1], tf.int64)
    columns = {name: [] for name in spec}
    for batch in tf.data.TFRecordDataset(path).batch(4096).map(lambda r: tf.io.parse_example(r, spec)):
        for name in spec:
            columns[name].append(batch[name].numpy())
    np.savez(output, **{name: np.concatenate(parts) for name, parts in columns.items()})


def torch_heldout_scores(model, heldout, autocast):
    """`(accuracy, mean cross-entropy)` of a `BertForPreTraining` over the real masked positions of `heldout`.

    `heldout`: the arrays of `heldout_batches`. The logits are computed only
    at the masked positions: the numbers of transformers' own
    `prediction_logits` there, without the vocabulary at every position.
    """
    import torch

    model.eval()
    correct = total = loss_sum = 0.0
    with torch.no_grad(), autocast:
        for start in range(0, len(heldout["input_word_ids"]), _EVAL_BATCH_SIZE):
            part = {k: torch.from_numpy(v[start:start + _EVAL_BATCH_SIZE]).long() for k, v in heldout.items()
                    if k != "masked_lm_weights"}
            weights = torch.from_numpy(heldout["masked_lm_weights"][start:start + _EVAL_BATCH_SIZE])
            sequence = model.bert(input_ids=part["input_word_ids"], attention_mask=part["input_mask"],
                                  token_type_ids=part["input_type_ids"]).last_hidden_state
            positions = part["masked_lm_positions"][..., None].expand(-1, -1, sequence.shape[-1])
            logits = model.cls.predictions(torch.gather(sequence, 1, positions)).float()
            losses = torch.nn.functional.cross_entropy(logits.transpose(1, 2), part["masked_lm_ids"], reduction="none")
            correct += float(((logits.argmax(-1) == part["masked_lm_ids"]) * weights).sum())
            loss_sum += float((losses * weights).sum())
            total += float(weights.sum())
    model.train()
    return correct / total, loss_sum / total


def transformers_child(job):
    """Trains `BertForPreTraining` for the budget, scoring the held-out batches `evaluations` times."""
    import numpy as np
    import torch
    import transformers

    from torch_reference import reference_optimizer, reference_update

    torch.manual_seed(FLAGS.seed)
    data = dict(np.load(job["train"]))
    heldout = dict(np.load(job["heldout"]))
    tokenizer = transformers.BertTokenizerFast(job["vocab_file"], do_lower_case=True)
    collator = transformers.DataCollatorForLanguageModeling(tokenizer, mlm_probability=0.15)
    layers, hidden, heads = _SIZES[FLAGS.model_size]
    config = transformers.BertConfig(vocab_size=len(tokenizer), hidden_size=hidden, num_hidden_layers=layers,
                                     num_attention_heads=heads, intermediate_size=4 * hidden)
    autocast = torch.autocast("cpu", dtype=torch.bfloat16, enabled=job["precision"] == "bfloat16")
    order = np.random.default_rng(FLAGS.seed)
    batch_size = FLAGS.train_batch_size

    def batches():
        while True:
            for start in range(0, len(data["input_ids"]) - batch_size + 1, batch_size):
                if start == 0:
                    permutation = order.permutation(len(data["input_ids"]))
                rows = permutation[start:start + batch_size]
                input_ids, labels = collator.torch_mask_tokens(torch.from_numpy(data["input_ids"][rows]))
                yield dict(input_ids=input_ids, labels=labels,
                           attention_mask=torch.from_numpy(data["input_mask"][rows]),
                           token_type_ids=torch.from_numpy(data["segment_ids"][rows]),
                           next_sentence_label=torch.from_numpy(data["next_sentence_labels"][rows, 0]))

    def build(total_steps):
        model = transformers.BertForPreTraining(config)
        optimizer, schedule = reference_optimizer(model, FLAGS.learning_rate, total_steps, max(1, total_steps // 10))
        return model, optimizer, schedule

    def train_step(model, optimizer, schedule, batch):
        with autocast:
            loss = model(**batch).loss
        reference_update(model, optimizer, schedule, loss)

    stream = batches()
    model, optimizer, schedule = build(10**6)  # calibration: a throwaway model
    n = FLAGS.calibration_steps
    for _ in range(n):
        train_step(model, optimizer, schedule, next(stream))
    start = time.time()
    for _ in range(n):
        train_step(model, optimizer, schedule, next(stream))
    rate = n / (time.time() - start)
    steps = max(FLAGS.evaluations, int(rate * job["budget_seconds"]))
    print(f"{rate:.1f} steps/s measured; {steps} steps for the budget.", flush=True)

    torch.manual_seed(FLAGS.seed)
    model, optimizer, schedule = build(steps)
    every = max(1, steps // FLAGS.evaluations)
    curve, train_seconds, stream = [], 0.0, batches()
    start = time.time()
    for step in range(1, steps + 1):
        train_step(model, optimizer, schedule, next(stream))
        if step % every == 0 or step == steps:
            train_seconds += time.time() - start
            accuracy, loss = torch_heldout_scores(model, heldout, autocast)
            curve.append({"step": step, "train_seconds": train_seconds, "mlm_accuracy": accuracy, "mlm_loss": loss})
            print(f"step {step}: {train_seconds:.1f} s, held-out MLM accuracy {accuracy:.4f}, loss {loss:.4f}",
                  flush=True)
            start = time.time()
    result = {"calibrated_steps_per_second": rate, "steps": steps, "curve": curve,
              "torch_threads": torch.get_num_threads(), "transformers": transformers.__version__,
              "torch": torch.__version__}
    with open(job["result"], "w") as f:
        json.dump(result, f, indent=2)


def time_to_reach(curve, target):
    """Training seconds at which `curve`'s accuracy first reaches `target` (linear between points); None if never.

    >>> time_to_reach([{"train_seconds": 10, "mlm_accuracy": 0.1}, {"train_seconds": 20, "mlm_accuracy": 0.3}], 0.2)
    15.0
    >>> print(time_to_reach([{"train_seconds": 10, "mlm_accuracy": 0.1}], 0.2))
    None
    """
    previous = {"train_seconds": 0.0, "mlm_accuracy": 0.0}
    for point in curve:
        if point["mlm_accuracy"] >= target:
            gain = point["mlm_accuracy"] - previous["mlm_accuracy"]
            share = (target - previous["mlm_accuracy"]) / gain if gain > 0 else 1.0
            return previous["train_seconds"] + share * (point["train_seconds"] - previous["train_seconds"])
        previous = point
    return None


def summarize(results):
    """Per precision: each side's final scores, and our time to the transformers run's final accuracy."""
    rows = []
    for precision, sides in results.items():
        row = {"precision": precision}
        for side, run in sides.items():
            final = run["curve"][-1]
            row[side] = {"steps": run["steps"], "steps_per_second": final["step"] / final["train_seconds"],
                         "train_seconds": final["train_seconds"], "mlm_accuracy": final["mlm_accuracy"],
                         "mlm_loss": final["mlm_loss"]}
        if set(SIDES) <= set(sides):
            target = row["transformers"]["mlm_accuracy"]
            reached = time_to_reach(sides["keras_bert"]["curve"], target)
            row["keras_bert_seconds_to_transformers_final"] = reached
            row["time_ratio"] = reached / row["transformers"]["train_seconds"] if reached is not None else None
        rows.append(row)
    return rows


def plot(results, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (accuracy_axes, loss_axes) = plt.subplots(1, 2, figsize=(11, 4))
    for precision, sides in results.items():
        for side, run in sides.items():
            seconds = [p["train_seconds"] / 60 for p in run["curve"]]
            style = dict(label=f"{side} {precision}", marker="o", markersize=3,
                         linestyle="-" if side == "keras_bert" else "--")
            accuracy_axes.plot(seconds, [p["mlm_accuracy"] for p in run["curve"]], **style)
            loss_axes.plot(seconds, [p["mlm_loss"] for p in run["curve"]], **style)
    for axes, name in ((accuracy_axes, "held-out MLM accuracy"), (loss_axes, "held-out MLM loss")):
        axes.set_xlabel("training wall time (minutes)")
        axes.set_ylabel(name)
        axes.grid(alpha=0.3)
    accuracy_axes.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=110)


def markdown(rows, environment):
    lines = ["| precision | side | steps | steps/s | held-out MLM accuracy | held-out MLM loss |",
             "|---|---|---|---|---|---|"]
    for row in rows:
        for side in SIDES:
            if side in row:
                r = row[side]
                lines.append(f"| {row['precision']} | {side} | {r['steps']:,} | {r['steps_per_second']:.1f} | "
                             f"{r['mlm_accuracy']:.4f} | {r['mlm_loss']:.3f} |")
    lines += ["", "| precision | keras_bert's time to the transformers run's final accuracy | share of its time |",
              "|---|---|---|"]
    for row in rows:
        if "time_ratio" in row:
            reached = row["keras_bert_seconds_to_transformers_final"]
            lines.append(f"| {row['precision']} | {'never' if reached is None else f'{reached:.0f} s'} | "
                         f"{'-' if row['time_ratio'] is None else format(row['time_ratio'], '.2f') + 'x'} |")
    lines += ["", "Environment: " + ", ".join(f"{k} {v}" for k, v in environment.items())]
    return "\n".join(lines) + "\n"


def environment():
    import tensorflow as tf
    import torch
    import transformers

    return {"python": platform.python_version(), "tensorflow": tf.__version__, "torch": torch.__version__,
            "transformers": transformers.__version__, "cpu_count": os.cpu_count(),
            "budget_minutes": FLAGS.budget_minutes, "model_size": FLAGS.model_size,
            "max_seq_length": FLAGS.max_seq_length, "train_batch_size": FLAGS.train_batch_size,
            "learning_rate": FLAGS.learning_rate}


def main(argv):
    del argv
    if FLAGS.child:
        with open(FLAGS.child) as f:
            transformers_child(json.load(f))
        return
    for name, allowed in (("precisions", PRECISIONS), ("sides", SIDES)):
        unknown = set(FLAGS[name].value) - set(allowed)
        if unknown:
            sys.exit(f"--{name}: unknown {sorted(unknown)}; use {' and/or '.join(allowed)}.")
    work_dir = os.path.join(os.path.abspath(FLAGS.work_dir), f"{FLAGS.model_size}_seq{FLAGS.max_seq_length}_"
                                            f"batch{FLAGS.train_batch_size}_{FLAGS.budget_minutes:g}min")
    instances = make_instances(work_dir)
    heldout = heldout_batches(instances["eval"], os.path.join(work_dir, "data", "heldout.npz"))
    results = {}
    for precision in FLAGS.precisions:
        results[precision] = {}
        for side in FLAGS.sides:
            if side == "keras_bert":
                results[precision][side] = run_keras_bert(instances, precision, work_dir)
            else:
                results[precision][side] = run_transformers(instances, precision, heldout, work_dir)
            final = results[precision][side]["curve"][-1]
            print(f"{side} {precision}: {final['step']} steps in {final['train_seconds']:.0f} s, held-out MLM "
                  f"accuracy {final['mlm_accuracy']:.4f}", flush=True)
    rows = summarize(results)
    env = environment()
    os.makedirs(FLAGS.output_dir, exist_ok=True)
    with open(os.path.join(FLAGS.output_dir, "time_to_quality.json"), "w") as f:
        json.dump({"environment": env, "summary": rows, "runs": results}, f, indent=2)
    plot(results, os.path.join(FLAGS.output_dir, "time_to_quality.png"))
    table = markdown(rows, env)
    with open(os.path.join(FLAGS.output_dir, "time_to_quality.md"), "w") as f:
        f.write(table)
    print(table)


if __name__ == "__main__":
    app.run(main)
