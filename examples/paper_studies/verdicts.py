"""The verdict rule: a claim against the per-task differences of seed means."""

import math
import statistics

from paper_studies.catalog import TASKS, model_entry


def summarize(values):
    """`(mean, sample standard deviation, n)`; the deviation is 0.0 for one value."""
    mean = statistics.fmean(values)
    return mean, statistics.stdev(values) if len(values) > 1 else 0.0, len(values)


def scores_of(results, model, task):
    return [r["score"] for r in results["finetuning"].values() if r["model"] == model and r["task"] == task]


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
        best = scores_of(results, study.better, task)
        for other in study.worse:
            theirs = scores_of(results, other, task)
            if not best or not theirs:
                continue
            (m1, s1, n1), (m2, s2, n2) = summarize(best), summarize(theirs)
            difference = m1 - m2
            standard_error = math.sqrt(s1 ** 2 / n1 + s2 ** 2 / n2)
            clear = standard_error > 0 and abs(difference) > 2 * standard_error
            ahead += clear and difference > 0
            behind += clear and difference < 0
            lines.append(f"{TASKS[task][2]}: {model_entry(study.better)[0]} minus {model_entry(other)[0]} = "
                         f"{100 * difference:+.2f} points (standard error {100 * standard_error:.2f}"
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
