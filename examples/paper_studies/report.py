"""`write_report`: REPORT.md, results.json and the plots of a reproduction."""

import dataclasses
import datetime
import json
import os
import platform

from paper_studies.catalog import (
    PROBES, TASKS, is_left_to_right, model_entry, pretraining_entry, studies, trains_next_sentence, uses_learned_vocab,
)
from paper_studies.plots import plot_budget_curve, plot_pretraining, plot_study
from paper_studies.verdicts import crossing, difference, runs_by_rate, scores_of, selected_rate, summarize, verdict


def _cell(results, model, task, rates_tried):
    """Mean ± std over seeds, and the selected learning rate where a grid was tried."""
    values = scores_of(results, model, task)
    if not values:
        return "-"
    mean, std, n = summarize(values)
    cell = f"{100 * mean:.2f} ± {100 * std:.2f}"
    if len(runs_by_rate(results, model, task)) > 1 or (len(rates_tried) > 1 and model_entry(model)[3] == "tiny"):
        cell += f" (lr {selected_rate(results, model, task):g})"
    return cell


def _hardware():
    cpu = platform.processor() or "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            names = [line.split(":", 1)[1].strip() for line in f if line.startswith("model name")]
        cpu = f"{names[0]} x {len(names)} logical cores" if names else cpu
    except OSError:
        pass
    import tensorflow as tf

    return f"{cpu}; {platform.platform()}; Python {platform.python_version()}; TensorFlow {tf.__version__}"


def _caveats(s):
    """What the miniature cannot show, stated beside the results."""
    tokens = s.pretrain_steps * s.pretrain_batch_size * s.max_seq_length
    paper_tokens = 1_000_000 * 256 * 512  # 1M steps of 256 sequences of up to 512 tokens (Section A.2)
    return [
        "## What this miniature can and cannot show",
        "",
        f"- Scale: a {s.pretrain_steps:,}-step 2-layer pretraining sees {tokens:,} token positions, about "
        f"1/{paper_tokens // tokens:,} of "
        "BERT-Base's 128,000 tokens x 1M steps, with a model of ~4.4M parameters (3.9M of them the embedding "
        f"table; {0.5 + s.learned_vocab_size * 128 / 1e6:.1f}M with the recipe's {s.learned_vocab_size:,}-piece "
        "vocabulary) instead of 110M. Effects the paper measured in tenths of a point are below this run's seed noise; "
        "the large ones (pretraining vs none, MLM vs LTR on MRPC) are the ones a miniature can hope to show.",
        "- Next-sentence data: instances follow the original create_pretraining_data.py, where a segment pair "
        "from a one-chunk stretch of text always takes a random B, so about 57% of pairs are random (majority "
        "baseline 0.57, not 0.50).",
        "- Study 2: the left-to-right model keeps causal attention when fine-tuned (as the paper's LTR model) and "
        "pools its last real token, since [CLS] at position 0 sees only itself.",
        "- Study 4 uses all-MiniLM-L6-v2 (6 layers, hidden 384, distilled for sentence embeddings), not BERT-Base, "
        f"and BiLSTMs of {s.lstm_units} units per direction instead of 768.",
        "- Study 5 compares at equal pretraining *time* (deeper models take fewer steps); the paper's Table 6 "
        "compares at equal steps.",
        "- Study 6 fine-tunes only; Table 8's feature-based NER column is not reproduced.",
        "",
    ]


def _probe_section(probes):
    """What a linear readout of each frozen last layer recovers, beside the fine-tuning results."""
    lines = ["## What the last layer holds: linear probes", "",
             "A softmax layer trained on each model's frozen last-layer vectors (examples/probe_encoder.py): the "
             "identity of the input token at each position of held-out Wikipedia text, and CoNLL-2003's POS and "
             "chunk tags of each word (at its first piece; trained on train.txt, scored on the dev set). Accuracy, "
             "in percent; the majority class in brackets.", "",
             "| model | " + " | ".join(PROBES.values()) + " |", "|---|" + "---|" * len(PROBES)]
    for model, run in probes.items():
        scores = run["eval_results"]
        lines.append(f"| {model_entry(model)[0]} | " + " | ".join(
            f"{100 * scores[f'{p}_accuracy']:.2f} ({100 * scores[f'{p}_majority_accuracy']:.1f})" for p in PROBES)
            + " |")
    return lines + [""]


def _accuracy(name, run):
    """A pretraining's held-out accuracy, saying what it predicts and on which windows where that differs."""
    text = f"{run['eval_results'].get('mlm_accuracy', float('nan')):.4f}"
    if is_left_to_right(name):
        text += " (next token)"
    tail = run.get("long_tail")
    if tail and tail["seq_length"] != tail["head_seq_length"]:
        text += f" (on {tail['seq_length']}-token windows)"
    return text


def budget_rows(study, results):
    """A budget curve: `[(steps, wall minutes, held-out accuracy, {task: (gain, standard error) or None})]`.

    One row per `(model, baseline)` of `study.curve` whose model's
    pretraining finished: the model's gain over the baseline on each task, each
    at its selected rate.
    """
    rows = []
    for model, baseline in study.curve:
        name = model_entry(model)[1]
        run = results["pretraining"].get(name)
        if run is None:
            continue
        gains = {task: difference(results, model, baseline, task) for task in study.tasks}
        rows.append((run["steps"], run["wall_seconds"] / 60, _accuracy(name, run), gains))
    return rows


def _budget_section(study, results, settings):
    """A study's gain against the pretraining budget, and where a line through it reaches zero.

    The line is fitted against log(updates). Minutes are given beside updates
    only when pretrainings ran alone (their wall times are then results), at
    the largest budget's measured pace.
    """
    rows = budget_rows(study, results)
    lines = [f"### The {study.curve_label}, by budget", "",
             "Gain at each budget = " + " minus ".join(model_entry(m.partition("@")[0])[0] for m in study.curve[0])
             + ": the difference of seed means, in points (± its standard error); wall time and held-out accuracy "
             "are the first one's (the whole `run_pretraining.py` run on this machine).", "",
             "| pretraining | wall time | held-out accuracy | "
             + " | ".join(f"gain, {TASKS[t][2]}" for t in study.tasks) + " |", "|---|---|---|" + "---|" * len(study.tasks)]
    for steps, minutes, accuracy, gains in rows:
        cells = ["-" if g is None else f"{100 * g[0]:+.2f} ± {100 * g[1]:.2f}" for g in gains.values()]
        lines.append(f"| {steps:,} steps | {minutes:.1f} min | {accuracy} | " + " | ".join(cells) + " |")
    lines.append("")
    alone = not settings.parallel_pretraining and rows
    pace = rows[-1][1] / rows[-1][0] if alone else None  # minutes per update

    def budget(steps):
        return f"{steps:,.0f} updates" + (f" ({steps * pace:.0f} min here)" if pace else "")

    for task in study.tasks:
        points = [(steps, gains[task][0]) for steps, _, _, gains in rows if gains[task] is not None]
        if len(points) < 2:
            continue
        if points[-1][1] > 0:  # positive at the largest budget: from which budget on
            first = next(steps for i, (steps, _) in enumerate(points) if all(g > 0 for _, g in points[i:]))
            lines.append(f"- {TASKS[task][2]}: the gain is positive from {budget(first)} of pretraining on.")
            continue
        at = crossing(*zip(*points))
        fitted = f"(a line through the gain against log(updates), from {len(points)} budgets of " \
                 f"{points[0][0]:,}-{points[-1][0]:,} updates)"
        if at is None:
            lines.append(f"- {TASKS[task][2]}: negative at the largest budget, and the gain does not grow with the "
                         f"budget {fitted}: no crossing to extrapolate to.")
        elif at > 100 * points[-1][0]:
            lines.append(f"- {TASKS[task][2]}: negative at the largest budget, and nearly flat {fitted}: it would "
                         f"reach zero only past 100 times the largest budget.")
        else:
            lines.append(f"- {TASKS[task][2]}: negative at the largest budget; extrapolated, it reaches zero at "
                         f"about {budget(at)} of pretraining {fitted}.")
    plot_budget_curve(study, rows, os.path.join(settings.report_dir, f"study_{study.number}_gain.png"))
    return lines + ["", f"![gain by budget](study_{study.number}_gain.png)", ""]


def write_report(settings, results, study_numbers, command):
    """Writes REPORT.md, results.json and the PNG plots into `settings.report_dir`."""
    os.makedirs(settings.report_dir, exist_ok=True)
    s = settings
    # A long tail's wall time includes its head's run, which several tails may share: each run counts once.
    runs = [r for group in ("pretraining", "finetuning") for r in results[group].values()]
    heads = {r["long_tail"]["after"]: r["long_tail"]["head_wall_seconds"] for r in runs if r.get("long_tail")}
    compute = sum(r["wall_seconds"] - r.get("long_tail", {}).get("head_wall_seconds", 0) for r in runs) \
        + sum(seconds for name, seconds in heads.items() if name not in results["pretraining"])
    lines = [
        "# BERT's claims, reproduced in miniature",
        "",
        f"Generated by `{command}` on {datetime.date.today().isoformat()}"
        + (" (**--quick smoke run: sizes far too small for the numbers to mean anything**)" if s.quick else "")
        + ".",
        "",
        f"- Hardware: {_hardware()}.",
        f"- Time: {compute / 60:.1f} min for all pretraining and fine-tuning runs (each as first measured; a "
        f"resumed reproduction reuses finished runs; with --parallel_runs={s.parallel_runs} "
        + ("pretrainings, " if s.parallel_pretraining else "pretrainings run alone, ")
        + f"probes and fine-tunings {s.parallel_runs} at a time), {results['wall_seconds'] / 60:.1f} min for the "
        "invocation that wrote this report.",
        "- Pretraining: BERT-Tiny shape (hidden 128, 2 heads, intermediate 512; 2 layers unless stated), "
        "BERT uncased vocabulary"
        + (f" (the recipe rows: {s.learned_vocab_size:,} pieces learned from the pretraining text)"
           if any(uses_learned_vocab(m) for n in study_numbers for m in studies(s)[n].models) else "")
        + f", sequences of {s.max_seq_length}, batch {s.pretrain_batch_size}, "
        f"{s.pretrain_steps} steps unless stated, AdamW peak lr {s.pretrain_learning_rate:g} (10% warmup, linear decay), "
        f"on `{s.pretrain_files}`; held-out accuracy on `{s.pretrain_eval_files}`.",
        f"- Fine-tuning: seeds {', '.join(map(str, s.seeds))}; {s.finetune_epochs:g} epochs for the small models, "
        f"{s.minilm_epochs:g} for all-MiniLM-L6-v2; batch 32, sequences of "
        f"{s.max_seq_length}; lr {' or '.join(f'{r:g}' for r in s.finetune_learning_rates)} for the small models "
        + ("(each model takes, per task, the rate with the best seed mean on the dev set, as the paper selected "
           "its rates; the tables name it), " if len(s.finetune_learning_rates) > 1 else "")
        + f"{s.minilm_learning_rate:g} for "
        f"all-MiniLM-L6-v2 fine-tuning, {s.feature_learning_rate:g} for the feature-based BiLSTM "
        f"({s.lstm_units} units per direction, two layers). Training examples: "
        + ", ".join(f"{TASKS[t][2].split()[0]} {'all' if n == 0 else f'first {n:,}'}" for t, n in s.train_examples)
        + "; scores on the full dev sets (CoNLL: `valid.txt`"
        + (f", its first {s.conll_eval_sentences} sentences" if s.conll_eval_sentences else "") + ").",
        "- Scores are percentages, mean ± sample standard deviation over the seeds. Each run's command and "
        "log is in its folder under the work directory; `results.json` here holds every number.",
        "",
    ]
    if results["pending"]:
        lines += [f"**Incomplete: {len(results['pending'])} run(s) not finished yet** (the same command continues "
                  "them): " + "; ".join(results["pending"]) + ".", ""]
    lines += [
        "| study | claim | verdict |",
        "|---|---|---|",
    ]
    verdicts = {}
    chosen = studies(s)
    for number in study_numbers:
        study = chosen[number]
        verdicts[number] = verdict(study, results)
        lines.append(f"| {number}. {study.title} | {study.claim} | **{verdicts[number][0]}** |")
    lines += ["", "Verdict rule: a difference of seed means is *clear* when it exceeds two standard errors. "
              "*Confirmed*: the claimed winner is clearly ahead on at least one task and clearly behind on none; "
              "*contradicted*: the reverse; *mixed*: clearly ahead on one and clearly behind on another; "
              "*within noise*: no clear difference.", ""]
    if results["pretraining"]:
        plot_pretraining(results, os.path.join(s.report_dir, "pretraining.png"))
        lines += ["## Pretraining runs", "", "| model | steps | wall time | held-out MLM accuracy | "
                  "held-out NSP accuracy |", "|---|---|---|---|---|"]
        for name, run in results["pretraining"].items():
            scores = run["eval_results"]
            accuracy = _accuracy(name, run)
            nsp = f"{scores.get('nsp_accuracy', float('nan')):.4f}" + (
                "" if trains_next_sentence(name) else " (untrained head)")
            if pretraining_entry(name)[2] != "pairs":
                nsp = "- (no sentence pairs)"
            lines.append(f"| {pretraining_entry(name)[0]} | {run['steps']:,} | {run['wall_seconds'] / 60:.1f} min | "
                         f"{accuracy} | {nsp} |")
        if results["calibration"]:
            rates = ", ".join(f"{k} layers {v:.0f}" for k, v in results["calibration"].items())
            lines += ["", f"Equal-time steps for study 5 come from measured training speeds (sequences/s): {rates}."]
        lines += ["", "![pretraining curves](pretraining.png)", ""]
    for number in study_numbers:
        study = chosen[number]
        word, reasons = verdicts[number]
        image = f"study_{number}.png"
        plot_study(study, results, os.path.join(s.report_dir, image))
        lines += [f"## Study {number}: {study.title}", "", f"**Claim.** {study.claim}", "",
                  f"**The paper.** {study.paper}", "",
                  "| model | " + " | ".join(TASKS[t][2] for t in study.tasks) + " |",
                  "|---|" + "---|" * len(study.tasks)]
        for model in study.models:
            lines.append(f"| {model_entry(model)[0]} | "
                         + " | ".join(_cell(results, model, t, s.finetune_learning_rates) for t in study.tasks)
                         + " |")
        lines += ["", f"**Measured: {word}.**", ""] + [f"- {r}" for r in reasons] + ["", f"![study {number}]({image})",
                                                                                       ""]
        if study.curve:
            lines += _budget_section(study, results, s)
    if results.get("probes"):
        lines += _probe_section(results["probes"])
    lines += _caveats(s)
    with open(os.path.join(s.report_dir, "REPORT.md"), "w") as f:
        f.write("\n".join(lines))
    with open(os.path.join(s.report_dir, "results.json"), "w") as f:
        json.dump({"settings": dataclasses.asdict(s), "command": command,
                   "verdicts": {n: v[0] for n, v in verdicts.items()}, **results}, f, indent=1, default=str)
    return verdicts
