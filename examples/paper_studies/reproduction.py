"""`Reproduction`: plans the chosen studies' runs and runs them in dependency order."""

import collections
import concurrent.futures
import functools
import json
import os
import statistics
import threading
import time

from paper_studies.catalog import (
    INSTANCES, PROBED_MODELS, PROBES, SUBSETS, TASKS, accumulation_steps, is_left_to_right, long_tail, micro_batches,
    model_entry, pretraining_entry, sentence_pooling, studies, trains_next_sentence,
)
from paper_studies.runner import NotRun, run_script


class Reproduction:
    """Plans and runs the chosen studies' runs, in dependency order, with progress lines."""

    def __init__(self, settings, report_only=False):
        self.settings = settings
        self.report_only = report_only  # gather finished runs, start none
        self.results = {"pretraining": {}, "finetuning": {}, "calibration": {}, "probes": {}, "pending": []}
        self._start = time.time()
        self._print_lock = threading.Lock()
        self._run_locks = collections.defaultdict(threading.Lock)  # one thread per pretraining run at a time
        self._run_locks_lock = threading.Lock()

    def _say(self, text):
        elapsed = time.time() - self._start
        with self._print_lock:  # runs finish on several threads; one whole line each
            print(f"[{elapsed / 60:6.1f} min] {text}", flush=True)

    # data

    def learned_vocab(self):
        """A WordPiece vocabulary learned from the pretraining text (build_vocab.py), once."""
        s = self.settings
        run_dir = os.path.join(s.work_dir, "data", f"vocab_{s.learned_vocab_size}")
        path = os.path.join(run_dir, "vocab.txt")
        try:
            run_script("build_vocab.py", [f"--input_files={s.pretrain_files}", f"--vocab_size={s.learned_vocab_size}",
                                          f"--output_file={path}"], run_dir, "vocabulary", report_only=self.report_only,
                       results_file=None, announce=lambda: self._say(f"learning a {s.learned_vocab_size}-piece "
                                                                     f"vocabulary from {s.pretrain_files}"))
        except NotRun:
            pass  # a report needs only the path
        return path

    def instances(self, layout="pairs", seq_length=None):
        """`{"train": path, "eval": path}`: pretraining instances of an `INSTANCES` layout, made once.

        `seq_length` defaults to the settings' `max_seq_length`.
        """
        return self._instances(layout, seq_length or self.settings.max_seq_length)

    @functools.lru_cache(maxsize=None)  # keyed on the length itself: a default and an explicit one are one call
    def _instances(self, layout, seq_length):
        s = self.settings
        extra, learned_vocab = INSTANCES[layout]
        if learned_vocab:
            extra = extra + [f"--vocab_file={self.learned_vocab()}"]
        paths = {}
        for name, files in (("train", s.pretrain_files), ("eval", s.pretrain_eval_files)):
            folder = name if layout == "pairs" else f"{name}_{layout}"
            if seq_length != s.max_seq_length:
                folder += f"_{seq_length}"
            run_dir = os.path.join(s.work_dir, "data", folder)
            paths[name] = os.path.join(run_dir, "instances.tfrecord")
            flag_list = [f"--input_file={files}", f"--output_file={paths[name]}",
                         f"--max_seq_length={seq_length}", "--dupe_factor=1"] + extra
            try:
                run_script("create_pretraining_data.py", flag_list, run_dir, f"{name} instances from {files}",
                           report_only=self.report_only, results_file=None,
                           announce=lambda: self._say(f"making {layout} {name} instances of {seq_length} from {files}"))
            except NotRun:
                pass  # a report needs only the path, which the pretraining runs' commands name
        return paths

    # pretraining

    def _pretrain_flags(self, model_dir, steps, extra, steps_per_loop=None, save_checkpoints_steps=None,
                        layout="pairs", seq_length=None):
        s = self.settings
        seq_length = seq_length or s.max_seq_length
        loop = steps_per_loop or min(s.steps_per_loop, steps)
        save = save_checkpoints_steps or loop * max(1, 1000 // loop)
        instances = self.instances(layout, seq_length)
        if INSTANCES[layout][1]:
            extra = [f"--vocab_file={self.learned_vocab()}"] + list(extra)
        if layout != "pairs":
            extra = ["--packed_sequences"] + list(extra)
        shared = [
            f"--input_files={instances['train']}", f"--eval_input_files={instances['eval']}",
            f"--model_dir={model_dir}", "--model_size=tiny", f"--max_seq_length={seq_length}",
            f"--max_predictions_per_seq={max(1, round(0.15 * seq_length))}",
            f"--train_batch_size={s.pretrain_batch_size}", f"--num_train_steps={steps}",
            f"--num_warmup_steps={max(1, steps // 10)}", f"--learning_rate={s.pretrain_learning_rate}",
            f"--steps_per_loop={loop}", f"--save_checkpoints_steps={save}", "--max_eval_steps=50",
            "--check_input_files=false",
        ]
        overridden = {flag.partition("=")[0] for flag in extra}  # a model's own value wins over the shared one
        return [flag for flag in shared if flag.partition("=")[0] not in overridden] + list(extra)

    def calibrate(self):
        """Sequences/s of 2, 4 and 6 layers, measured the same way, for equal-time pretraining."""
        s = self.settings
        n = s.calibration_steps

        def measure(layers):
            run_dir = os.path.join(s.work_dir, "calibration", f"layers_{layers}")
            flag_list = self._pretrain_flags(run_dir, 3 * n, [f"--num_layers={layers}", "--do_eval=false"],
                                             steps_per_loop=n, save_checkpoints_steps=3 * n)
            run_script("run_pretraining.py", flag_list, run_dir, f"calibration of {layers} layers",
                       report_only=self.report_only, results_file=None,
                       announce=lambda: self._say(f"calibrating: {layers}-layer pretraining speed"))
            with open(os.path.join(run_dir, "metrics.jsonl")) as f:
                rows = [json.loads(line) for line in f if line.strip()]
            return statistics.median(row["sequences_per_second"] for row in rows[1:])  # loop 1 compiles

        self.instances()  # once, before any thread asks for it
        layer_counts = (2, 4, 6)
        with concurrent.futures.ThreadPoolExecutor(max_workers=self._pretraining_workers) as pool:
            rates = dict(zip(layer_counts, pool.map(measure, layer_counts)))
        self.results["calibration"] = rates
        return rates

    def pretrain(self, name):
        """A pretraining's finished run: `run_script`'s result with its name, steps, model_dir and curve."""
        if name in self.results["pretraining"]:
            return self.results["pretraining"][name]
        result = self._pretraining_run(name)
        scores = result["eval_results"]
        nsp = f", NSP accuracy {scores.get('nsp_accuracy', float('nan')):.4f}" if trains_next_sentence(name) else ""
        self._say(f"  {name}: held-out {'next-token' if is_left_to_right(name) else 'MLM'} accuracy "
                  f"{scores.get('mlm_accuracy', float('nan')):.4f}{nsp} ({result['wall_seconds']:.0f} s"
                  f"{', cached' if result['cached'] else ''})")
        self.results["pretraining"][name] = result
        return result

    def _pretraining_cost(self, name):
        """A pretraining's cost in batches of the settings' length (a long tail's batches hold 4x the tokens)."""
        _, _, _, steps = pretraining_entry(name)
        steps = steps or self.settings.pretrain_steps  # accumulation: fewer updates of as many batches
        if long_tail(name):
            _, share, multiple, tail_flags = long_tail(name)
            steps *= share + (1 - share) * multiple * micro_batches(tail_flags)
        return steps

    def _pretraining_run(self, name):
        """Runs (or reuses) one pretraining; a `LONG_TAILS` one is its first run and the run continuing it."""
        with self._run_locks_lock:
            lock = self._run_locks[name]
        with lock:  # long tails running side by side share their first run: it runs once, the others reuse it
            return self._pretraining_run_locked(name)

    def _pretraining_run_locked(self, name):
        s = self.settings
        _, extra, layout, steps = pretraining_entry(name)
        steps = (steps or s.pretrain_steps) // accumulation_steps(name)  # the same sequences in fewer updates
        if name.startswith("layers_"):
            rates = self.results["calibration"] or self.calibrate()
            if not rates:
                raise NotRun(f"pretraining {name}")
            steps = max(1, round(s.pretrain_steps * rates[int(name.split("_")[1])] / rates[2]))
        head, seq_length, upstream = None, s.max_seq_length, ()
        if long_tail(name):
            first, share, multiple, tail_flags = long_tail(name)
            head_steps = max(1, round(share * steps))
            head = self._pretraining_run(first if head_steps == s.pretrain_steps else f"{first}@{head_steps}")
            extra = list(extra) + tail_flags + [f"--init_checkpoint={head['model_dir']}"]
            steps, seq_length, upstream = steps - head_steps, multiple * s.max_seq_length, (head["signature"],)
        model_dir = os.path.join(s.work_dir, "pretraining", name)
        label = f"pretraining {name} ({steps} steps" + (
            f" of {seq_length} tokens after {head['steps']} of {s.max_seq_length})" if head else ")")
        flag_list = self._pretrain_flags(model_dir, steps, extra, layout=layout, seq_length=seq_length)
        result = run_script("run_pretraining.py", flag_list, model_dir, label, upstream, report_only=self.report_only,
                            announce=lambda: self._say(f"{label} ..."))
        result.update(name=name, steps=steps, model_dir=model_dir, batch_size=s.pretrain_batch_size)
        with open(os.path.join(model_dir, "metrics.jsonl")) as f:
            result["curve"] = [json.loads(line) for line in f if line.strip()]
        if head:  # one pretraining: the tail's steps, time and curve continue the head's
            offset = head["curve"][-1]["train_seconds"] if head["curve"] else 0.0
            result["curve"] = head["curve"] + [dict(row, step=row["step"] + head["steps"],
                                                    train_seconds=row["train_seconds"] + offset)
                                               for row in result["curve"]]
            result.update(steps=head["steps"] + steps, wall_seconds=head["wall_seconds"] + result["wall_seconds"],
                          long_tail={"steps": steps, "seq_length": seq_length, "after": head["name"],
                                     "head_seq_length": s.max_seq_length, "head_wall_seconds": head["wall_seconds"]})
        return result

    # fine-tuning

    def learning_rates(self, model):
        """The fine-tuning rates a model is tried at: the small models' grid, or study 4's one rate."""
        s = self.settings
        rate_kind = model_entry(model)[3]
        if rate_kind == "tiny":
            return s.finetune_learning_rates
        return (s.minilm_learning_rate if rate_kind == "minilm" else s.feature_learning_rate,)

    @staticmethod
    def _finetune_key(model, task, seed, rate):
        return f"{model}/{task}/{seed}/{rate:g}"

    def finetune(self, model, task, seed, rate):
        s = self.settings
        key = self._finetune_key(model, task, seed, rate)
        if key in self.results["finetuning"]:
            return self.results["finetuning"][key]
        _, pretrained, extra, rate_kind = model_entry(model)
        upstream = ()
        epochs = s.finetune_epochs if rate_kind == "tiny" else s.minilm_epochs
        flag_list = [f"--max_seq_length={s.max_seq_length}", f"--seed={seed}", f"--num_train_epochs={epochs}",
                     "--train_batch_size=32"]
        if pretrained:
            checkpoint = self.pretrain(pretrained)
            flag_list.append(f"--init_checkpoint={checkpoint['model_dir']}")
            upstream = (checkpoint["signature"],)
        flag_list.append(f"--learning_rate={rate}")
        if rate_kind == "feature":
            flag_list.append(f"--lstm_units={s.lstm_units}")
        data_task, limit = SUBSETS.get(task, (task, 0))
        own = dict(s.train_examples).get(data_task, 0)  # a subset never exceeds its task's own examples
        limit = min(limit, own) if limit and own else limit or own
        if limit:
            flag_list.append(f"--max_train_examples={limit}")
        script, metric, _ = TASKS[task]
        pooling = sentence_pooling(model)
        if script == "run_classifier.py" and pooling != "pooler":
            flag_list.append(f"--pooling={pooling}")
        if task == "conll":
            flag_list += [f"--train_file={os.path.join(s.conll_dir, 'train.txt')}", f"--eval_file={self._conll_eval_file}"]
        else:
            flag_list += [f"--task={data_task}", f"--data_dir={os.path.join(s.glue_dir, data_task)}"]
        run_dir = os.path.join(s.work_dir, "finetuning", model, task, f"lr_{rate:g}", f"seed_{seed}")
        flag_list += [f"--output_dir={run_dir}"] + list(extra)
        result = run_script(script, flag_list, run_dir, f"{model} on {task}, lr {rate:g}, seed {seed}", upstream,
                            report_only=self.report_only)
        result.update(model=model, task=task, seed=seed, learning_rate=rate, score=result["eval_results"][metric])
        self._say(f"  {model:<16} {task:<9} lr {rate:<6g} seed {seed}: {metric} {result['score']:.4f} "
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

    def probe(self, model):
        """Linear probes of a model's frozen last layer (probe_encoder.py): token identity, POS and chunk tags."""
        s = self.settings
        if model in self.results["probes"]:
            return self.results["probes"][model]
        _, pretrained, extra, _ = model_entry(model)
        checkpoint = self.pretrain(pretrained)
        run_dir = os.path.join(s.work_dir, "probes", model)
        flag_list = [f"--init_checkpoint={checkpoint['model_dir']}", f"--probes={','.join(PROBES)}",
                     f"--text_files={s.pretrain_eval_files}", f"--conll_train_file={os.path.join(s.conll_dir, 'train.txt')}",
                     f"--conll_eval_file={self._conll_eval_file}", f"--max_seq_length={s.max_seq_length}",
                     f"--max_train_sentences={s.probe_train_sentences}", f"--output_dir={run_dir}"]
        flag_list += ["--random_init"] if "--random_init" in extra else []
        result = run_script("probe_encoder.py", flag_list, run_dir, f"probes of {model}", (checkpoint["signature"],),
                            report_only=self.report_only, announce=lambda: self._say(f"probing {model} ..."))
        scores = result["eval_results"]
        self._say(f"  {model}: " + ", ".join(f"{PROBES[p]} {scores[f'{p}_accuracy']:.4f}" for p in PROBES)
                  + f" ({result['wall_seconds']:.0f} s{', cached' if result['cached'] else ''})")
        self.results["probes"][model] = result
        return result

    def _unless_pending(self, job, *args):
        """Runs `job(*args)`; a run that may not start (report-only mode) is listed as pending instead."""
        try:
            job(*args)
        except NotRun as e:
            if str(e) not in self.results["pending"]:
                self.results["pending"].append(str(e))

    @property
    def _pretraining_workers(self):
        """Pretrainings at a time: one, alone on the machine, unless their wall times are not results."""
        return self.settings.parallel_runs if self.settings.parallel_pretraining else 1

    def _run_in_pool(self, jobs, workers=None):
        """Runs `(function, *args)` jobs `workers` (`parallel_runs`) at a time; the first failure stops the rest."""
        with concurrent.futures.ThreadPoolExecutor(max_workers=workers or self.settings.parallel_runs) as pool:
            futures = [pool.submit(self._unless_pending, *job) for job in jobs]
            try:
                for future in futures:
                    future.result()
            except BaseException:
                pool.shutdown(cancel_futures=True)  # a failed run stops the reproduction; finished runs are kept
                raise

    def run(self, study_numbers, probes=False):
        """Runs the chosen studies (and the probes of their models); returns the results."""
        s = self.settings
        chosen = [studies(s)[number] for number in study_numbers]
        models = list(dict.fromkeys(model for study in chosen for model in study.models))
        # The probed kinds of model at every budget the studies pretrain them for (recipe, recipe@12000, ...).
        probed = [model for model in models if model.partition("@")[0] in PROBED_MODELS] if probes else []
        # Pretrainings one at a time, alone on the machine: their wall times are results (studies 5 and 8).
        # A smoke run shares them out like the fine-tunings, once the data they share exists.
        pretrainings = [(self.pretrain, name) for name in dict.fromkeys(model_entry(m)[1] for m in models) if name]
        layouts = dict.fromkeys(pretraining_entry(name)[2] for _, name in pretrainings)
        self._run_in_pool([(self.instances, layout) for layout in layouts], self._pretraining_workers)
        if 5 in study_numbers:
            self._unless_pending(self.calibrate)  # before the pretrainings, on a machine not yet busy with them
        # Longest first, so that parallel pretrainings do not end on one long run with the other workers idle.
        self._run_in_pool(sorted(pretrainings, key=lambda job: -self._pretraining_cost(job[1])),
                          self._pretraining_workers)
        # Then the probes and fine-tunings, `parallel_runs` at a time (their times are not results). Each
        # (model, task, rate, seed) once, though several studies share it.
        jobs = [(self.probe, model) for model in probed]
        jobs += list(dict.fromkeys(
            (self.finetune, model, task, seed, rate) for study in chosen for model in study.models
            for task in study.tasks for rate in self.learning_rates(model) for seed in s.seeds))
        self._conll_eval_file  # written once, before the threads share it
        self._say(f"{len(probed)} probe(s) and {len(jobs) - len(probed)} fine-tuning(s), {s.parallel_runs} at a time")
        self._run_in_pool(jobs)
        # Threads finish in any order; the results (and so results.json and the report) keep the plan's.
        planned = {"pretraining": [name for _, name in pretrainings], "probes": probed,
                   "finetuning": [self._finetune_key(*job[1:]) for job in jobs[len(probed):]]}
        for group, keys in planned.items():
            self.results[group] = {key: self.results[group][key] for key in keys if key in self.results[group]}
        self.results["wall_seconds"] = time.time() - self._start
        return self.results
