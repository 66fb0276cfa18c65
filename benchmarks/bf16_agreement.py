"""Does --mixed_precision=bfloat16 learn what float32 learns? Fine-tuning accuracy and pretraining curves.

    python benchmarks/bf16_agreement.py --output_dir=reports/performance

Runs the README's two default jobs twice each, float32 then bfloat16, through
the example scripts exactly as a user would: `run_classifier.py` (all-MiniLM-L6-v2
on the bundled SST-2 slice, dev accuracy) and `run_pretraining.py` (BERT-Tiny from
scratch on the bundled Wikipedia sample, a loss point every --steps_per_loop
steps). Writes `bf16_agreement.md`, `bf16_agreement.json` and
`bf16_pretraining.png` (both runs' MLM and NSP losses on one plot).
"""

import json
import os
import subprocess
import sys
import time

from absl import app, flags

flags.DEFINE_string("output_dir", "reports/performance", "Where the table, JSON and plot go.")
flags.DEFINE_string("work_dir", "/tmp/keras_bert_bf16_agreement", "Run directories (started afresh).")
flags.DEFINE_integer("steps_per_loop", 20, "Pretraining steps per loss point.")
flags.DEFINE_list("jobs", ["classifier", "pretraining"], "Which jobs to compare.")
FLAGS = flags.FLAGS

PRECISIONS = ("float32", "bfloat16")


def _run(script, *args):
    start = time.time()
    completed = subprocess.run([sys.executable, f"examples/{script}", *args], capture_output=True, text=True)
    if completed.returncode != 0:
        raise RuntimeError(f"{script} {' '.join(args)} failed:\n{completed.stderr[-3000:]}")
    return time.time() - start


def _losses(model_dir):
    with open(os.path.join(model_dir, "metrics.jsonl")) as f:
        rows = [json.loads(line) for line in f if line.strip()]
    return sorted({row["step"]: row for row in rows}.values(), key=lambda row: row["step"])


def main(argv):
    del argv
    import shutil

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shutil.rmtree(FLAGS.work_dir, ignore_errors=True)
    os.makedirs(FLAGS.output_dir, exist_ok=True)
    results, lines = {}, []
    if "classifier" in FLAGS.jobs:
        lines += ["| fine-tuning, bundled SST-2 slice (README command) | dev accuracy | seconds |", "|---|---|---|"]
        for precision in PRECISIONS:
            output_dir = os.path.join(FLAGS.work_dir, f"classifier_{precision}")
            seconds = _run("run_classifier.py", f"--output_dir={output_dir}", f"--mixed_precision={precision}")
            with open(os.path.join(output_dir, "eval_results.json")) as f:
                accuracy = json.load(f)["accuracy"]
            results[f"classifier {precision}"] = {"accuracy": accuracy, "seconds": seconds}
            lines.append(f"| {precision} | {accuracy:.4f} | {seconds:.0f} |")
            print(lines[-1], flush=True)
        lines.append("")
    if "pretraining" in FLAGS.jobs:
        figure, axes = plt.subplots(1, 1, figsize=(8, 4))
        lines += ["| pretraining, BERT-Tiny, bundled Wikipedia sample (README command) | MLM loss, first / last "
                  f"{FLAGS.steps_per_loop} steps | NSP loss, last | held-out MLM accuracy | seconds |",
                  "|---|---|---|---|---|"]
        for precision in PRECISIONS:
            model_dir = os.path.join(FLAGS.work_dir, f"pretraining_{precision}")
            seconds = _run("run_pretraining.py", f"--model_dir={model_dir}", f"--mixed_precision={precision}",
                           f"--steps_per_loop={FLAGS.steps_per_loop}")
            rows = _losses(model_dir)
            with open(os.path.join(model_dir, "eval_results.json")) as f:
                held_out = json.load(f)
            results[f"pretraining {precision}"] = {"curve": rows, "held_out": held_out, "seconds": seconds}
            steps = [row["step"] for row in rows]
            for key, style in (("mlm_loss", "-"), ("nsp_loss", "--")):
                axes.plot(steps, [row[key] for row in rows], style, label=f"{key}, {precision}")
            lines.append(f"| {precision} | {rows[0]['mlm_loss']:.3f} / {rows[-1]['mlm_loss']:.3f} | "
                         f"{rows[-1]['nsp_loss']:.3f} | {held_out['mlm_accuracy']:.4f} | {seconds:.0f} |")
            print(lines[-1], flush=True)
        axes.set_xlabel("step")
        axes.set_ylabel("training loss")
        axes.grid(alpha=0.3)
        axes.legend()
        axes.set_title("BERT-Tiny pretraining: float32 vs mixed bfloat16")
        figure.tight_layout()
        figure.savefig(os.path.join(FLAGS.output_dir, "bf16_pretraining.png"), dpi=100)
    with open(os.path.join(FLAGS.output_dir, "bf16_agreement.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    with open(os.path.join(FLAGS.output_dir, "bf16_agreement.json"), "w") as f:
        json.dump(results, f, indent=2)
    print("\n".join(lines))


if __name__ == "__main__":
    app.run(main)
