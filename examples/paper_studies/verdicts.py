"""The verdict rule: a claim against the per-task differences of seed means."""

import math
import statistics

from paper_studies.catalog import TASKS, model_entry


def summarize(values):
    """`(mean, sample standard deviation, n)`; the deviation is 0.0 for one value."""
    mean = statistics.fmean(values)
    return mean, statistics.stdev(values) if len(values) > 1 else 0.0, len(values)


def runs_by_rate(results, model, task):
    """`{learning rate: [score per seed]}` of a model's fine-tunings on a task."""
    by_rate = {}
    for run in results["finetuning"].values():
        if run["model"] == model and run["task"] == task:
            by_rate.setdefault(run["learning_rate"], []).append(run["score"])
    return by_rate


def _selected(results, model, task):
    """`(rate, seeds' scores)` at the rate with the best seed mean; `(None, [])` if none ran."""
    by_rate = runs_by_rate(results, model, task)
    if not by_rate:
        return None, []
    rate = max(by_rate, key=lambda r: statistics.fmean(by_rate[r]))
    return rate, by_rate[rate]


def selected_rate(results, model, task):
    """The learning rate with the best seed mean on the dev set (the paper's selection); None if none ran.

    >>> run = lambda rate, score: {"model": "m", "task": "t", "learning_rate": rate, "score": score}
    >>> selected_rate({"finetuning": {1: run(1e-3, 0.6), 2: run(1e-3, 0.8), 3: run(5e-4, 0.65)}}, "m", "t")
    0.001
    """
    return _selected(results, model, task)[0]


def scores_of(results, model, task):
    """The seeds' scores of a model on a task, at its selected learning rate."""
    return _selected(results, model, task)[1]


def difference(results, model, other, task):
    """`(difference of seed means, its standard error)` of two models on a task; None if either has no runs."""
    ours, theirs = scores_of(results, model, task), scores_of(results, other, task)
    if not ours or not theirs:
        return None
    (m1, s1, n1), (m2, s2, n2) = summarize(ours), summarize(theirs)
    return m1 - m2, math.sqrt(s1 ** 2 / n1 + s2 ** 2 / n2)


def crossing(budgets, gains):
    """Where a least-squares line of gain against log(budget) reaches zero: the budget, or None.

    None when the line does not rise (or fewer than two budgets): no crossing
    to extrapolate to.

    >>> round(crossing([10, 100], [-0.02, -0.01]))  # a point a decade: the next decade crosses
    1000
    >>> crossing([10, 100], [-0.01, -0.02]) is None
    True
    """
    if len(budgets) < 2:
        return None
    xs = [math.log(b) for b in budgets]
    mean_x, mean_y = statistics.fmean(xs), statistics.fmean(gains)
    spread = sum((x - mean_x) ** 2 for x in xs)
    slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, gains)) / spread if spread else 0.0
    if slope <= 0:
        return None
    return math.exp(mean_x - mean_y / slope)


def verdict(study, results):
    """`(word, reasons)`: the claim against the per-task differences of seed means.

    A difference is clear when it exceeds two standard errors (which needs a
    spread: at least two seeds that differ). Confirmed: the claimed winner is
    clearly ahead somewhere and clearly behind nowhere. Contradicted: the
    reverse. Mixed: clearly ahead somewhere and clearly behind elsewhere.
    Within noise: no clear difference anywhere.
    """
    ahead, behind, lines = 0, 0, []
    for task in study.tasks:
        for other in study.worse:
            compared = difference(results, study.better, other, task)
            if compared is None:
                continue
            gain, standard_error = compared
            clear = standard_error > 0 and abs(gain) > 2 * standard_error
            ahead += clear and gain > 0
            behind += clear and gain < 0
            lines.append(f"{TASKS[task][2]}: {model_entry(study.better)[0]} minus {model_entry(other)[0]} = "
                         f"{100 * gain:+.2f} points (standard error {100 * standard_error:.2f}"
                         f"{', clear' if clear else ''})")
    if not lines:
        return "not run", lines
    if ahead and behind:
        return "mixed", lines
    if ahead:
        return "confirmed", lines
    if behind:
        return "contradicted", lines
    return "within noise", lines
