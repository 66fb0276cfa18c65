"""`plot_pretraining_curves`: loss and accuracy of a pretraining run, from its `metrics.jsonl`, as a PNG.

run_pretraining.py draws MODEL_DIR/curves.png with it.
"""

import json


def plot_pretraining_curves(metrics_file, output_png, title="BERT pretraining"):
    """Plots MLM/NSP loss and accuracy against the step.

    Args:
        metrics_file: str. The run's `metrics.jsonl` (written by `pretrain`).
        output_png: str. Where the figure goes.
        title: str.

    Returns:
        The number of points plotted.
    """
    import matplotlib

    matplotlib.use("Agg")  # no display needed
    import matplotlib.pyplot as plt

    with open(metrics_file) as f:
        rows = [json.loads(line) for line in f if line.strip()]
    # A resumed run may repeat steps; the last entry of each step wins.
    rows = sorted({row["step"]: row for row in rows}.values(), key=lambda row: row["step"])
    steps = [row["step"] for row in rows]
    figure, (loss_axes, accuracy_axes) = plt.subplots(1, 2, figsize=(11, 4))
    for key, label in (("mlm_loss", "MLM loss"), ("nsp_loss", "NSP loss")):
        loss_axes.plot(steps, [row[key] for row in rows], label=label)
    for key, label in (("mlm_accuracy", "MLM accuracy"), ("nsp_accuracy", "NSP accuracy")):
        accuracy_axes.plot(steps, [row[key] for row in rows], label=label)
    for axes, name in ((loss_axes, "training loss"), (accuracy_axes, "training accuracy")):
        axes.set_xlabel("step")
        axes.set_title(name)
        axes.grid(alpha=0.3)
        axes.legend()
    figure.suptitle(title)
    figure.tight_layout()
    figure.savefig(output_png, dpi=100)
    plt.close(figure)
    return len(rows)
