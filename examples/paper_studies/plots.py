"""The report's plots: one bar chart per study, and the pretraining curves."""

from paper_studies.catalog import TASKS, model_entry
from paper_studies.verdicts import scores_of, summarize


def plot_study(study, results, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(1.8 + 1.9 * len(study.tasks), 3.6))
    width = 0.8 / len(study.models)
    for i, model in enumerate(study.models):
        means, stds = [], []
        for task in study.tasks:
            values = scores_of(results, model, task) or [float("nan")]
            mean, std, _ = summarize(values)
            means.append(100 * mean)
            stds.append(100 * std)
        positions = [t + (i - (len(study.models) - 1) / 2) * width for t in range(len(study.tasks))]
        axes.bar(positions, means, width, yerr=stds, capsize=3, label=model_entry(model)[0])
        for task_index, task in enumerate(study.tasks):
            points = [100 * v for v in scores_of(results, model, task)]
            axes.plot([positions[task_index]] * len(points), points, "k.", markersize=3)
    axes.set_xticks(range(len(study.tasks)))
    axes.set_xticklabels([TASKS[t][2] for t in study.tasks])
    axes.set_ylabel("dev score (%), mean ± std over seeds")
    low = min((100 * r["score"] for r in results["finetuning"].values() if r["model"] in study.models
               and r["task"] in study.tasks), default=0)
    axes.set_ylim(max(0, low - 10), None)
    axes.set_title(f"Study {study.number}: {study.title}", fontsize=10)
    axes.legend(fontsize=7, loc="lower right")
    axes.grid(axis="y", alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def plot_pretraining(results, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (loss_axes, time_axes) = plt.subplots(1, 2, figsize=(11, 4))
    for name, run in results["pretraining"].items():
        rows = sorted({row["step"]: row for row in run["curve"]}.values(), key=lambda row: row["step"])
        steps = [row["step"] for row in rows]
        losses = [row["mlm_loss"] for row in rows]
        loss_axes.plot(steps, losses, label=name)
        time_axes.plot([row["train_seconds"] for row in rows], losses, label=name)
    loss_axes.set_xlabel("step")
    time_axes.set_xlabel("training seconds")
    for axes in (loss_axes, time_axes):
        axes.set_ylabel("training MLM (or next-token) loss")
        axes.grid(alpha=0.3)
        axes.legend(fontsize=7)
    figure.suptitle("Pretraining curves")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def plot_budget_curve(study, rows, path):
    """A budget curve (studies 8 and 9): each budget's gain (points, ± standard error) against its updates."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(6, 3.8))
    for task in study.tasks:
        points = [(steps, gains[task]) for steps, _, _, gains in rows if gains[task] is not None]
        if points:
            axes.errorbar([m for m, _ in points], [100 * g[0] for _, g in points],
                          yerr=[100 * g[1] for _, g in points], marker="o", capsize=3, label=TASKS[task][2])
    axes.axhline(0, color="k", linewidth=0.8)
    axes.set_xscale("log")
    axes.set_xlabel("pretraining updates (log scale)")
    axes.set_ylabel(f"{study.curve_label}\n(points, ± standard error)", fontsize=8)
    axes.set_title(f"Study {study.number}: {study.title}", fontsize=10)
    axes.legend(fontsize=7)
    axes.grid(alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
