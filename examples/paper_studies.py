"""The paper's claims in miniature: the studies, their runs, and the report (for reproduce_paper.py).

Every pretraining and fine-tuning run is one of the example scripts
(run_pretraining.py, run_classifier.py, run_ner.py) started as a subprocess
with its flags: the code users train with, nothing special-cased. A finished
run leaves `result.json` (its command, its scores, its wall time) in its
folder under WORK_DIR; started again, the studies skip finished runs, so an
interrupted reproduction goes on where it stopped, and a run whose command
changed (other flags, or a changed checkpoint under it) is run afresh.
"""

import dataclasses
import datetime
import functools
import hashlib
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time

EXAMPLES = os.path.dirname(os.path.abspath(__file__))


@dataclasses.dataclass(frozen=True)
class Settings:
    """Sizes and data of one reproduction (reproduce_paper.py's flags)."""

    work_dir: str
    report_dir: str
    seeds: tuple
    pretrain_files: str
    pretrain_eval_files: str
    glue_dir: str
    conll_dir: str
    max_seq_length: int = 64
    pretrain_steps: int = 4000
    pretrain_batch_size: int = 32
    pretrain_learning_rate: float = 1e-3
    steps_per_loop: int = 100
    calibration_steps: int = 30
    train_examples: tuple = (("sst2", 8000), ("mrpc", 0), ("conll", 3000))  # 0: all
    conll_eval_sentences: int = 0  # 0: all of valid.txt
    finetune_epochs: float = 3.0
    minilm_epochs: float = 2.0
    finetune_learning_rate: float = 5e-4
    minilm_learning_rate: float = 1e-4  # 5e-5 left it undertrained in study 4's ~190 steps (F1 0.59-0.65)
    feature_learning_rate: float = 1e-3
    lstm_units: int = 128
    quick: bool = False


# Pretrained models: name -> (description, run_pretraining.py flags beyond the shared ones).
PRETRAININGS = {
    "bert": ("MLM + NSP, 80/10/10 masking (BERT)", []),
    "mlm_only": ("MLM only (No NSP)", ["--next_sentence_prediction=false"]),
    "ltr": ("Left-to-right LM, no NSP (LTR & No NSP)", ["--objective=ltr", "--next_sentence_prediction=false"]),
    "mask_100_0_0": ("MLM + NSP, 100% [MASK]", ["--mask_token_rate=1.0", "--random_token_rate=0.0"]),
    "mask_80_0_20": ("MLM + NSP, 80% [MASK] / 20% unchanged", ["--mask_token_rate=0.8", "--random_token_rate=0.0"]),
    "layers_4": ("MLM + NSP, 4 layers, equal time", ["--num_layers=4"]),
    "layers_6": ("MLM + NSP, 6 layers, equal time", ["--num_layers=6"]),
}

# Fine-tuned models: name -> (label, pretrained model or None for all-MiniLM-L6-v2, extra flags, rate kind).
MODELS = {
    "scratch": ("random init (same architecture)", "bert", ["--random_init"], "tiny"),
    **{name: (description, name, [], "tiny") for name, (description, _) in PRETRAININGS.items()},
    "minilm_finetune": ("MiniLM fine-tuned", None, [], "minilm"),
    "minilm_last": ("MiniLM frozen: last hidden layer", None, ["--feature_based", "--num_feature_layers=1"], "feature"),
    "minilm_sum4": ("MiniLM frozen: last four summed", None,
                    ["--feature_based", "--num_feature_layers=4", "--feature_combine=sum"], "feature"),
    "minilm_concat4": ("MiniLM frozen: last four concatenated", None,
                       ["--feature_based", "--num_feature_layers=4", "--feature_combine=concat"], "feature"),
}

# Tasks: name -> (script, metric reported, metric's name).
TASKS = {
    "sst2": ("run_classifier.py", "accuracy", "SST-2 accuracy"),
    "mrpc": ("run_classifier.py", "accuracy", "MRPC accuracy"),
    "conll": ("run_ner.py", "f1", "CoNLL-2003 F1"),
    "sst2_2000": ("run_classifier.py", "accuracy", "SST-2, 2,000 examples"),
}
# Smaller training sets of a task: name -> (task, training examples).
SUBSETS = {"sst2_2000": ("sst2", 2000)}


@dataclasses.dataclass(frozen=True)
class Study:
    """One claim: models fine-tuned on tasks, and which comparison tests it."""

    number: int
    title: str
    claim: str
    paper: str  # what the paper measured
    models: tuple
    tasks: tuple
    better: str  # the model the claim says wins
    worse: tuple  # the models it should beat


STUDIES = {
    1: Study(1, "Pretraining helps",
             "Fine-tuning a pretrained BERT beats training the same architecture from random initialisation.",
             "The paper's premise (Sections 1 and 5); every GLUE, NER and SQuAD gain rests on it, and the gain is "
             "largest on small data sets (Section 5.2), so SST-2 is also fine-tuned on its first 2,000 examples.",
             ("scratch", "bert"), ("sst2", "mrpc", "conll", "sst2_2000"), "bert", ("scratch",)),
    2: Study(2, "Bidirectional beats left-to-right",
             "A masked LM (bidirectional) transfers better than a left-to-right LM at the same budget, both "
             "without NSP.",
             "Table 5 (BERT-Base budget, dev): No NSP vs LTR & No NSP: SST-2 92.6 vs 92.1, MRPC 86.5 vs 77.5 "
             "accuracy, SQuAD 87.9 vs 77.8 F1.",
             ("mlm_only", "ltr"), ("sst2", "mrpc", "conll"), "mlm_only", ("ltr",)),
    3: Study(3, "Next-sentence prediction helps sentence-pair tasks",
             "Removing NSP hurts, most on sentence-pair tasks.",
             "Table 5 (dev): BERT-Base vs No NSP: QNLI 88.4 vs 84.9, MNLI 84.4 vs 83.9, MRPC 86.7 vs 86.5, "
             "SST-2 92.7 vs 92.6 accuracy.",
             ("bert", "mlm_only"), ("mrpc", "sst2"), "bert", ("mlm_only",)),
    4: Study(4, "Feature-based is close to fine-tuning on NER",
             "Fine-tuning is best; frozen features from the last four layers concatenated come close, and "
             "beat the last layer alone.",
             "Table 7 (BERT-Base, CoNLL-2003 dev F1): fine-tuning 96.4, last four concatenated 96.1, last four "
             "summed 95.9, last hidden 94.9.",
             ("minilm_finetune", "minilm_concat4", "minilm_sum4", "minilm_last"), ("conll",),
             "minilm_finetune", ("minilm_concat4", "minilm_sum4", "minilm_last")),
    5: Study(5, "Bigger is better",
             "Deeper models fine-tune better, here at equal pretraining time.",
             "Table 6: 3 -> 6 -> 12 layers (hidden 768): MRPC 79.8 -> 80.6 -> 82.2, SST-2 88.4 -> 90.7 -> 91.3 "
             "(at equal steps, not equal time).",
             ("bert", "layers_4", "layers_6"), ("sst2", "mrpc"), "layers_6", ("bert",)),
    6: Study(6, "Masking strategy: 80/10/10",
             "Fine-tuning is robust to the masking mix; 80/10/10 is at least as good as 100% [MASK] and "
             "80/0/20.",
             "Table 8 (dev, fine-tuning): MNLI 84.2 / 84.3 / 84.1 and NER 95.4 / 94.9 / 95.2 for 80/10/10, "
             "100/0/0, 80/0/20.",
             ("bert", "mask_100_0_0", "mask_80_0_20"), ("conll", "sst2"), "bert", ("mask_100_0_0", "mask_80_0_20")),
}


# --- running --------------------------------------------------------------------------


class RunFailed(RuntimeError):
    pass


class NotRun(Exception):
    """A run that has no finished result and may not be started (report-only mode)."""


def _signature(command, upstream=()):
    text = json.dumps([command, list(upstream)])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def run_script(script, flag_list, run_dir, label, upstream=(), report_only=False, results_file="eval_results.json",
               announce=None):
    """Runs an example script once into `run_dir` unless an identical run finished there.

    With `report_only`, a run without a finished result raises `NotRun`
    instead of starting. `announce()`, if given, is called just before the
    script starts (not for a finished run).

    Returns:
        The run's `result.json` dict: `command`, `signature`, `wall_seconds`,
        `eval_results` (the script's own `results_file` in `run_dir`; `{}`
        for `results_file=None`) and `cached`.

    Raises:
        RunFailed: with the end of the run's log.
    """
    command = [os.path.join(EXAMPLES, script)] + list(flag_list)
    signature = _signature(command, upstream)
    result_file = os.path.join(run_dir, "result.json")
    if os.path.isfile(result_file):
        with open(result_file) as f:
            result = json.load(f)
        if result.get("signature") == signature:
            return {**result, "cached": True}
        if report_only:
            raise NotRun(label)
        shutil.rmtree(run_dir)  # another configuration's run: start over
    if report_only:
        raise NotRun(label)
    if os.path.isdir(run_dir) and os.path.isfile(os.path.join(run_dir, "signature")):
        with open(os.path.join(run_dir, "signature")) as f:
            if f.read().strip() != signature:
                shutil.rmtree(run_dir)  # an interrupted run of other flags
    os.makedirs(run_dir, exist_ok=True)
    with open(os.path.join(run_dir, "signature"), "w") as f:
        f.write(signature)
    log_path = os.path.join(run_dir, "log.txt")
    if announce:
        announce()
    start = time.time()
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONUNBUFFERED="1")
    with open(log_path, "a") as log:
        code = subprocess.call([sys.executable] + command, stdout=log, stderr=subprocess.STDOUT, env=env)
    wall = time.time() - start
    if code != 0:
        with open(log_path, errors="replace") as f:
            tail = "".join(f.readlines()[-15:])
        raise RunFailed(f"{label} failed (exit {code}); the end of {log_path}:\n{tail}")
    eval_results = {}
    if results_file:
        with open(os.path.join(run_dir, results_file)) as f:
            eval_results = json.load(f)
    result = {"label": label, "command": command, "signature": signature, "wall_seconds": wall,
              "eval_results": eval_results}
    with open(result_file, "w") as f:
        json.dump(result, f, indent=2)
    return {**result, "cached": False}


class Reproduction:
    """Plans and runs the chosen studies' runs, in dependency order, with progress lines."""

    def __init__(self, settings, report_only=False):
        self.settings = settings
        self.report_only = report_only  # gather finished runs, start none
        self.results = {"pretraining": {}, "finetuning": {}, "calibration": {}, "pending": []}
        self._start = time.time()

    def _say(self, text):
        elapsed = time.time() - self._start
        print(f"[{elapsed / 60:6.1f} min] {text}", flush=True)

    # data

    def make_instances(self):
        """Pretraining instances from text, once (seq length of the studies)."""
        s = self.settings
        paths = {}
        for name, files in (("train", s.pretrain_files), ("eval", s.pretrain_eval_files)):
            run_dir = os.path.join(s.work_dir, "data", name)
            paths[name] = os.path.join(run_dir, "instances.tfrecord")
            flag_list = [f"--input_file={files}", f"--output_file={paths[name]}",
                         f"--max_seq_length={s.max_seq_length}", "--dupe_factor=1"]
            try:
                run_script("create_pretraining_data.py", flag_list, run_dir, f"{name} instances from {files}",
                           report_only=self.report_only, results_file=None,
                           announce=lambda: self._say(f"making {name} instances from {files}"))
            except NotRun:
                pass  # a report needs only the path, which the pretraining runs' commands name
        return paths

    # pretraining

    def _pretrain_flags(self, model_dir, steps, extra, steps_per_loop=None, save_checkpoints_steps=None):
        s = self.settings
        loop = steps_per_loop or min(s.steps_per_loop, steps)
        save = save_checkpoints_steps or loop * max(1, 1000 // loop)
        return [
            f"--input_files={self.instances['train']}", f"--eval_input_files={self.instances['eval']}",
            f"--model_dir={model_dir}", "--model_size=tiny", f"--max_seq_length={s.max_seq_length}",
            f"--max_predictions_per_seq={max(1, round(0.15 * s.max_seq_length))}",
            f"--train_batch_size={s.pretrain_batch_size}", f"--num_train_steps={steps}",
            f"--num_warmup_steps={max(1, steps // 10)}", f"--learning_rate={s.pretrain_learning_rate}",
            f"--steps_per_loop={loop}", f"--save_checkpoints_steps={save}", "--max_eval_steps=50",
            "--check_input_files=false",
        ] + list(extra)

    def calibrate(self):
        """Sequences/s of 2, 4 and 6 layers, measured the same way, for equal-time pretraining."""
        s = self.settings
        n = s.calibration_steps
        rates = {}
        for layers in (2, 4, 6):
            run_dir = os.path.join(s.work_dir, "calibration", f"layers_{layers}")
            flag_list = self._pretrain_flags(run_dir, 3 * n, [f"--num_layers={layers}", "--do_eval=false"],
                                             steps_per_loop=n, save_checkpoints_steps=3 * n)
            run_script("run_pretraining.py", flag_list, run_dir, f"calibration of {layers} layers",
                       report_only=self.report_only, results_file=None,
                       announce=lambda: self._say(f"calibrating: {layers}-layer pretraining speed"))
            with open(os.path.join(run_dir, "metrics.jsonl")) as f:
                rows = [json.loads(line) for line in f if line.strip()]
            rates[layers] = statistics.median(row["sequences_per_second"] for row in rows[1:])  # loop 1 compiles
        self.results["calibration"] = rates
        return rates

    def pretrain(self, name):
        s = self.settings
        if name in self.results["pretraining"]:
            return self.results["pretraining"][name]
        steps = s.pretrain_steps
        if name.startswith("layers_"):
            rates = self.results["calibration"] or self.calibrate()
            if not rates:
                raise NotRun(f"pretraining {name}")
            steps = max(1, round(s.pretrain_steps * rates[int(name.split("_")[1])] / rates[2]))
        model_dir = os.path.join(s.work_dir, "pretraining", name)
        label = f"pretraining {name} ({steps} steps)"
        result = run_script("run_pretraining.py", self._pretrain_flags(model_dir, steps, PRETRAININGS[name][1]),
                            model_dir, label, report_only=self.report_only, announce=lambda: self._say(f"{label} ..."))
        result.update(name=name, steps=steps, model_dir=model_dir, batch_size=s.pretrain_batch_size)
        metrics_file = os.path.join(model_dir, "metrics.jsonl")
        with open(metrics_file) as f:
            result["curve"] = [json.loads(line) for line in f if line.strip()]
        scores = result["eval_results"]
        self._say(f"  {name}: held-out {'next-token' if name == 'ltr' else 'MLM'} accuracy "
                  f"{scores.get('mlm_accuracy', float('nan')):.4f}, NSP accuracy "
                  f"{scores.get('nsp_accuracy', float('nan')):.4f} ({result['wall_seconds']:.0f} s"
                  f"{', cached' if result['cached'] else ''})")
        self.results["pretraining"][name] = result
        return result

    # fine-tuning

    def finetune(self, model, task, seed):
        s = self.settings
        key = f"{model}/{task}/{seed}"
        if key in self.results["finetuning"]:
            return self.results["finetuning"][key]
        _, pretrained, extra, rate_kind = MODELS[model]
        upstream = ()
        epochs = s.finetune_epochs if rate_kind == "tiny" else s.minilm_epochs
        flag_list = [f"--max_seq_length={s.max_seq_length}", f"--seed={seed}", f"--num_train_epochs={epochs}",
                     "--train_batch_size=32"]
        if pretrained:
            checkpoint = self.pretrain(pretrained)
            flag_list.append(f"--init_checkpoint={checkpoint['model_dir']}")
            upstream = (checkpoint["signature"],)
        rate = {"tiny": s.finetune_learning_rate, "minilm": s.minilm_learning_rate,
                "feature": s.feature_learning_rate}[rate_kind]
        flag_list.append(f"--learning_rate={rate}")
        if rate_kind == "feature":
            flag_list.append(f"--lstm_units={s.lstm_units}")
        data_task, limit = SUBSETS.get(task, (task, dict(s.train_examples).get(task, 0)))
        if limit:
            flag_list.append(f"--max_train_examples={limit}")
        script, metric, _ = TASKS[task]
        if task == "conll":
            flag_list += [f"--train_file={os.path.join(s.conll_dir, 'train.txt')}", f"--eval_file={self._conll_eval_file}"]
        else:
            flag_list += [f"--task={data_task}", f"--data_dir={os.path.join(s.glue_dir, data_task)}"]
        run_dir = os.path.join(s.work_dir, "finetuning", model, task, f"seed_{seed}")
        flag_list += [f"--output_dir={run_dir}"] + list(extra)
        result = run_script(script, flag_list, run_dir, f"{model} on {task}, seed {seed}", upstream,
                            report_only=self.report_only)
        result.update(model=model, task=task, seed=seed, score=result["eval_results"][metric])
        self._say(f"  {model:<16} {task:<6} seed {seed}: {metric} {result['score']:.4f} "
                  f"({result['wall_seconds']:.0f} s{', cached' if result['cached'] else ''})")
        self.results["finetuning"][key] = result
        return result

    @functools.cached_property
    def _conll_eval_file(self):
        """valid.txt, or its first `conll_eval_sentences` sentences (quick runs), written once."""
        s = self.settings
        valid = os.path.join(s.conll_dir, "valid.txt")
        if not s.conll_eval_sentences:
            return valid
        with open(valid, encoding="utf-8") as f:
            blocks = [b for b in f.read().split("\n\n") if b.strip() and not b.startswith("-DOCSTART-")]
        path = os.path.join(s.work_dir, "data", f"conll_valid_{s.conll_eval_sentences}.txt")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.write("\n\n".join(blocks[: s.conll_eval_sentences]) + "\n")
        return path

    def run_study(self, study):
        self._say(f"study {study.number}: {study.title}")
        for task in study.tasks:
            for model in study.models:
                for seed in self.settings.seeds:
                    try:
                        self.finetune(model, task, seed)
                    except NotRun as e:
                        if str(e) not in self.results["pending"]:
                            self.results["pending"].append(str(e))

    def run(self, study_numbers):
        self.instances = self.make_instances()
        if 5 in study_numbers:
            try:
                self.calibrate()  # first, on a machine not yet busy with anything else of ours
            except NotRun as e:
                self.results["pending"].append(str(e))
        for number in study_numbers:
            self.run_study(STUDIES[number])
        self.results["wall_seconds"] = time.time() - self._start
        return self.results


# --- the report -------------------------------------------------------------------------


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
            lines.append(f"{TASKS[task][2]}: {MODELS[study.better][0]} minus {MODELS[other][0]} = "
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


def _cell(values):
    if not values:
        return "-"
    mean, std, n = summarize(values)
    return f"{100 * mean:.2f} ± {100 * std:.2f}"


def _plot_study(study, results, path):
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
        axes.bar(positions, means, width, yerr=stds, capsize=3, label=MODELS[model][0])
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


def _plot_pretraining(results, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (loss_axes, time_axes) = plt.subplots(1, 2, figsize=(11, 4))
    for name, run in results["pretraining"].items():
        rows = sorted({row["step"]: row for row in run["curve"]}.values(), key=lambda row: row["step"])
        steps = [row["step"] for row in rows]
        losses = [row["mlm_loss"] for row in rows]
        loss_axes.plot(steps, losses, label=name)
        # Training seconds at each logged step, from each loop's measured speed.
        seconds, elapsed, previous = [], 0.0, 0
        for row in rows:
            elapsed += (row["step"] - previous) * run["batch_size"] / row["sequences_per_second"]
            previous = row["step"]
            seconds.append(elapsed)
        time_axes.plot(seconds, losses, label=name)
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
        f"- Scale: each 2-layer pretraining sees {tokens:,} token positions, about 1/{paper_tokens // tokens:,} of "
        "BERT-Base's 128,000 tokens x 1M steps, with a model of ~4.4M parameters (3.9M of them the embedding "
        "table) instead of 110M. Effects the paper measured in tenths of a point are below this run's seed noise; "
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


def write_report(settings, results, study_numbers, command):
    """Writes REPORT.md, results.json and the PNG plots into `settings.report_dir`."""
    os.makedirs(settings.report_dir, exist_ok=True)
    s = settings
    compute = sum(r["wall_seconds"] for group in ("pretraining", "finetuning") for r in results[group].values())
    lines = [
        "# BERT's claims, reproduced in miniature",
        "",
        f"Generated by `{command}` on {datetime.date.today().isoformat()}"
        + (" (**--quick smoke run: sizes far too small for the numbers to mean anything**)" if s.quick else "")
        + ".",
        "",
        f"- Hardware: {_hardware()}.",
        f"- Time: {compute / 60:.1f} min for all pretraining and fine-tuning runs (each as first measured; a "
        f"resumed reproduction reuses finished runs), {results['wall_seconds'] / 60:.1f} min for the invocation "
        "that wrote this report.",
        f"- Pretraining: BERT-Tiny shape (hidden 128, 2 heads, intermediate 512; 2 layers unless stated), "
        f"BERT uncased vocabulary, sequences of {s.max_seq_length}, batch {s.pretrain_batch_size}, "
        f"{s.pretrain_steps} steps, AdamW peak lr {s.pretrain_learning_rate:g} (10% warmup, linear decay), "
        f"on `{s.pretrain_files}`; held-out accuracy on `{s.pretrain_eval_files}`.",
        f"- Fine-tuning: seeds {', '.join(map(str, s.seeds))}; {s.finetune_epochs:g} epochs for the small models, "
        f"{s.minilm_epochs:g} for all-MiniLM-L6-v2; batch 32, sequences of "
        f"{s.max_seq_length}; lr {s.finetune_learning_rate:g} for the small models, {s.minilm_learning_rate:g} for "
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
    for number in study_numbers:
        study = STUDIES[number]
        verdicts[number] = verdict(study, results)
        lines.append(f"| {number}. {study.title} | {study.claim} | **{verdicts[number][0]}** |")
    lines += ["", "Verdict rule: a difference of seed means is *clear* when it exceeds two standard errors. "
              "*Confirmed*: the claimed winner is clearly ahead on at least one task and clearly behind on none; "
              "*contradicted*: the reverse; *mixed*: clearly ahead on one and clearly behind on another; "
              "*within noise*: no clear difference.", ""]
    if results["pretraining"]:
        _plot_pretraining(results, os.path.join(s.report_dir, "pretraining.png"))
        lines += ["## Pretraining runs", "", "| model | steps | wall time | held-out MLM accuracy | "
                  "held-out NSP accuracy |", "|---|---|---|---|---|"]
        for name, run in results["pretraining"].items():
            scores = run["eval_results"]
            accuracy = f"{scores.get('mlm_accuracy', float('nan')):.4f}" + (" (next token)" if name == "ltr" else "")
            nsp = f"{scores.get('nsp_accuracy', float('nan')):.4f}" + (
                " (untrained head)" if "--next_sentence_prediction=false" in PRETRAININGS[name][1] else "")
            lines.append(f"| {PRETRAININGS[name][0]} | {run['steps']:,} | {run['wall_seconds'] / 60:.1f} min | "
                         f"{accuracy} | {nsp} |")
        if results["calibration"]:
            rates = ", ".join(f"{k} layers {v:.0f}" for k, v in results["calibration"].items())
            lines += ["", f"Equal-time steps for study 5 come from measured training speeds (sequences/s): {rates}."]
        lines += ["", "![pretraining curves](pretraining.png)", ""]
    for number in study_numbers:
        study = STUDIES[number]
        word, reasons = verdicts[number]
        image = f"study_{number}.png"
        _plot_study(study, results, os.path.join(s.report_dir, image))
        lines += [f"## Study {number}: {study.title}", "", f"**Claim.** {study.claim}", "",
                  f"**The paper.** {study.paper}", "",
                  "| model | " + " | ".join(TASKS[t][2] for t in study.tasks) + " |",
                  "|---|" + "---|" * len(study.tasks)]
        for model in study.models:
            lines.append(f"| {MODELS[model][0]} | "
                         + " | ".join(_cell(scores_of(results, model, t)) for t in study.tasks) + " |")
        lines += ["", f"**Measured: {word}.**", ""] + [f"- {r}" for r in reasons] + ["", f"![study {number}]({image})",
                                                                                       ""]
    lines += _caveats(s)
    with open(os.path.join(s.report_dir, "REPORT.md"), "w") as f:
        f.write("\n".join(lines))
    with open(os.path.join(s.report_dir, "results.json"), "w") as f:
        json.dump({"settings": dataclasses.asdict(s), "command": command,
                   "verdicts": {n: v[0] for n, v in verdicts.items()}, **results}, f, indent=1, default=str)
    return verdicts
