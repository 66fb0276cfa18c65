"""examples/reproduce_paper.py: the verdict rule, and one study end to end through the real scripts."""

import dataclasses
import json
import subprocess
import sys

import pytest

from conftest import REPO_ROOT

sys.path.insert(0, str(REPO_ROOT / "examples"))
import paper_studies  # noqa: E402


def _results(scores, rate=5e-4):
    """`{(model, task): [scores over seeds]}` -> the runs' results layout, all at one learning rate."""
    runs = {}
    for (model, task), values in scores.items():
        for seed, value in enumerate(values):
            runs[f"{model}/{task}/{seed}/{rate:g}"] = {"model": model, "task": task, "seed": seed,
                                                       "learning_rate": rate, "score": value, "wall_seconds": 60.0}
    return {"finetuning": runs}


@pytest.mark.parametrize("bert, scratch, expected", [
    # Clearly ahead on SST-2 (difference 0.05, standard error about 0.008), within noise on MRPC.
    ({"sst2": [0.80, 0.81, 0.82], "mrpc": [0.70, 0.72, 0.71]},
     {"sst2": [0.75, 0.76, 0.77], "mrpc": [0.69, 0.70, 0.72]}, "confirmed"),
    # Ahead everywhere but never by two standard errors.
    ({"sst2": [0.80, 0.70, 0.90], "mrpc": [0.70, 0.60, 0.80]},
     {"sst2": [0.79, 0.69, 0.89], "mrpc": [0.69, 0.59, 0.79]}, "within noise"),
    # Clearly ahead on one task, clearly behind on the other.
    ({"sst2": [0.80, 0.81, 0.82], "mrpc": [0.60, 0.61, 0.62]},
     {"sst2": [0.75, 0.76, 0.77], "mrpc": [0.70, 0.71, 0.72]}, "mixed"),
    # Clearly behind on one; identical seeds elsewhere give no spread, so nothing clear there.
    ({"sst2": [0.70, 0.71, 0.72], "mrpc": [0.70, 0.70, 0.70]},
     {"sst2": [0.75, 0.76, 0.77], "mrpc": [0.71, 0.71, 0.71]}, "contradicted"),
])
def test_verdict_rule(bert, scratch, expected):
    study = paper_studies.Study(1, "t", "c", "p", ("scratch", "bert"), ("sst2", "mrpc"), "bert", ("scratch",))
    scores = {("bert", t): v for t, v in bert.items()} | {("scratch", t): v for t, v in scratch.items()}
    word, reasons = paper_studies.verdict(study, _results(scores))
    assert word == expected
    assert len(reasons) == 2 and reasons[0].startswith("SST-2 accuracy: ")


def test_each_model_is_judged_at_its_best_learning_rate_on_each_task():
    study = paper_studies.Study(1, "t", "c", "p", ("scratch", "bert"), ("sst2", "mrpc"), "bert", ("scratch",))
    low = _results({("bert", "sst2"): [0.60, 0.61, 0.62], ("bert", "mrpc"): [0.72, 0.73, 0.74],
                    ("scratch", "sst2"): [0.70, 0.71, 0.72], ("scratch", "mrpc"): [0.70, 0.71, 0.72]}, rate=5e-4)
    high = _results({("bert", "sst2"): [0.80, 0.81, 0.82], ("bert", "mrpc"): [0.62, 0.63, 0.64],
                     ("scratch", "sst2"): [0.65, 0.66, 0.67], ("scratch", "mrpc"): [0.50, 0.51, 0.52]}, rate=1e-3)
    results = {"finetuning": {**low["finetuning"], **high["finetuning"]}}
    assert [paper_studies.selected_rate(results, m, t) for m in ("bert", "scratch") for t in ("sst2", "mrpc")] \
        == [1e-3, 5e-4, 5e-4, 5e-4]
    assert paper_studies.scores_of(results, "bert", "sst2") == [0.80, 0.81, 0.82]
    # bert at 1e-3 vs scratch at 5e-4 on SST-2 (+10 points), both at 5e-4 on MRPC (+2 points): clear on both.
    word, reasons = paper_studies.verdict(study, results)
    assert word == "confirmed" and "+10.00 points" in reasons[0] and "+2.00 points" in reasons[1]
    assert paper_studies.selected_rate(results, "bert", "conll") is None


def test_summary_is_mean_and_sample_deviation():
    mean, std, n = paper_studies.summarize([0.7, 0.8, 0.9])
    assert (round(mean, 10), round(std, 10), n) == (0.8, 0.1, 3)
    assert paper_studies.summarize([0.5]) == (0.5, 0.0, 1)


def _reproduce(tmp_path, *flags):
    command = [sys.executable, "examples/reproduce_paper.py", "--quick", "--studies=1", "--seeds=1",
               f"--work_dir={tmp_path}/work", f"--report_dir={tmp_path}/report", "--pretrain_steps=20",
               "--sst2_examples=64", "--mrpc_examples=64", "--conll_examples=32", "--every_task", "--parallel_runs=2",
               *flags]
    return subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=1200)


def test_study_runs_the_real_scripts_reports_and_resumes(shared_data, minilm_path, tmp_path):
    first = _reproduce(tmp_path)
    assert first.returncode == 0, first.stdout[-2000:] + first.stderr[-3000:]
    assert "pretraining bert (20 steps)" in first.stdout
    report = (tmp_path / "report" / "REPORT.md").read_text()
    assert "| random init (same architecture) |" in report and "## Study 1: Pretraining helps" in report
    assert "--quick smoke run" in report and "Hardware:" in report
    assert (tmp_path / "report" / "study_1.png").stat().st_size > 10_000
    assert (tmp_path / "report" / "pretraining.png").stat().st_size > 10_000
    results = json.loads((tmp_path / "report" / "results.json").read_text())
    runs = results["finetuning"]
    tasks = ("sst2", "mrpc", "conll", "sst2_2000")
    assert sorted(runs) == sorted(f"{m}/{t}/1/0.001" for m in ("scratch", "bert") for t in tasks)  # --quick's rate
    # Each score is the script's own eval_results.json, and the command names the real script and flags.
    sst2 = runs["bert/sst2/1/0.001"]
    written = json.loads((tmp_path / "work/finetuning/bert/sst2/lr_0.001/seed_1/eval_results.json").read_text())
    assert sst2["score"] == written["accuracy"]
    assert sst2["command"][0].endswith("run_classifier.py") and "--max_train_examples=64" in sst2["command"]
    assert "--random_init" in runs["scratch/conll/1/0.001"]["command"]
    # SST-2's first 2,000 examples, capped at the 64 SST-2 examples this run trains on.
    assert "--max_train_examples=64" in runs["bert/sst2_2000/1/0.001"]["command"]
    assert "--learning_rate=0.001" in sst2["command"]
    assert results["verdicts"]["1"] in ("confirmed", "contradicted", "mixed", "within noise")
    # The probes of study 1's two models: the random encoder is probe_encoder.py's --random_init of the same run.
    assert sorted(results["probes"]) == ["bert", "scratch"]
    assert "--random_init" in results["probes"]["scratch"]["command"]
    written = json.loads((tmp_path / "work/probes/bert/eval_results.json").read_text())
    assert results["probes"]["bert"]["eval_results"] == written
    assert "## What the last layer holds: linear probes" in report and "| random init (same architecture) | " in report

    # Started again: every run is reused, nothing retrains.
    second = _reproduce(tmp_path)
    assert second.returncode == 0, second.stderr[-3000:]
    assert second.stdout.count("cached") == 11  # 1 pretraining + 8 fine-tuning runs + 2 probes
    assert json.loads((tmp_path / "report" / "results.json").read_text())["finetuning"]["bert/sst2/1/0.001"]["score"] \
        == sst2["score"]


    # --report_only starts nothing: a second seed's runs are listed as pending.
    partial = _reproduce(tmp_path, "--report_only", "--seeds=1,2")
    assert partial.returncode == 0, partial.stderr[-3000:]
    report = (tmp_path / "report" / "REPORT.md").read_text()
    assert "**Incomplete: 8 run(s) not finished yet**" in report and "bert on sst2, lr 0.001, seed 2" in report
    assert not (tmp_path / "work/finetuning/bert/sst2/lr_0.001/seed_2").exists()


def test_the_recipe_ladder_adds_one_change_a_row_and_ends_at_run_pretrainings_preset():
    import ast

    rows = list(paper_studies.catalog.RECIPE.values())
    flag_sets = [set(flags) for _, flags, _ in rows]
    layouts = [layout for _, _, layout in rows]
    for earlier, later, before, after in zip(flag_sets[:-1], flag_sets[1:-1], layouts, layouts[1:-1]):
        assert earlier <= later and (later - earlier or before != after)  # one more change, nothing dropped
    # The last row is --recipe=small_budget spelled out, read from run_pretraining.py's own table.
    source = (REPO_ROOT / "examples/run_pretraining.py").read_text()
    table = next(node.value for node in ast.parse(source).body
                 if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "RECIPES")
    preset = ast.literal_eval(table)["small_budget"]
    assert layouts[-1].startswith("packed") == preset["packed_sequences"] and layouts[-2] == "packed"
    assert all(f"--dropout={preset['dropout']:g}" in flags for flags in flag_sets[:-1])
    assert flag_sets[-1] == {"--recipe=small_budget"} and paper_studies.catalog.INSTANCES[layouts[-1]][1]
    # The shared --learning_rate is given explicitly, so it wins over the preset's: they must agree.
    assert preset["learning_rate"] == paper_studies.Settings("w", "r", (1,), "t", "e", "g", "c").pretrain_learning_rate
    # Sentence tasks read the tokens' mean once NSP is gone (nothing trains the pooler), and the recipe's random
    # baseline is fine-tuned the same way; BERT's setup and the paper's studies keep the pooler.
    pooling = {name: paper_studies.catalog.sentence_pooling(name) for name in (*paper_studies.catalog.RECIPE, "bert")}
    assert pooling == {"recipe_no_dropout": "pooler", "recipe_packed": "mean", "recipe": "mean", "bert": "pooler"}
    assert paper_studies.catalog.sentence_pooling("scratch_recipe") == "mean" == \
        paper_studies.catalog.sentence_pooling("recipe@36000")


def test_study_9_compares_the_recipe_with_its_left_to_right_twin_at_each_budget():
    catalog = paper_studies.catalog
    settings = paper_studies.Settings("w", "r", (1,), "t", "e", "g", "c", budget_steps=(4000, 36000))
    study = paper_studies.studies(settings)[9]
    assert study.models == ("ltr_recipe", "recipe", "ltr_recipe@36000", "recipe@36000")
    assert study.curve == (("recipe", "ltr_recipe"), ("recipe@36000", "ltr_recipe@36000"))
    # The verdict is the largest budget's.
    assert study.better == "recipe@36000" and study.worse == ("ltr_recipe@36000",)
    assert set(study.tasks) == {"sst2_2000", "mrpc", "conll"}
    # One change from the recipe: the objective. Same instances, same head for sentence tasks.
    _, ltr_flags, ltr_layout, ltr_steps = catalog.pretraining_entry("ltr_recipe@36000")
    _, mlm_flags, mlm_layout, mlm_steps = catalog.pretraining_entry("recipe@36000")
    assert set(ltr_flags) - set(mlm_flags) == {"--objective=ltr"} and set(mlm_flags) <= set(ltr_flags)
    assert (ltr_layout, ltr_steps) == (mlm_layout, mlm_steps) == ("packed_learned_vocab", 36000)
    assert catalog.sentence_pooling("ltr_recipe@36000") == catalog.sentence_pooling("recipe@36000") == "mean"
    assert catalog.is_left_to_right("ltr_recipe@36000") and not catalog.is_left_to_right("recipe@36000")
    # At the settings' own budget the recipe is study 7's run of that name.
    own = paper_studies.studies(paper_studies.Settings("w", "r", (1,), "t", "e", "g", "c", budget_steps=(4000,)))
    assert own[9].models == ("ltr_recipe", "recipe")


def test_without_every_task_each_study_fine_tunes_on_its_first_task_only():
    # --quick's plan: every study and model, each study's first task (study 8 and 9 at quick's one budget).
    settings = paper_studies.Settings("w", "r", (1,), "t", "e", "g", "c", pretrain_steps=60, budget_steps=(60,))
    every, first = (paper_studies.studies(dataclasses.replace(settings, every_task=flag)) for flag in (True, False))
    assert every.keys() == first.keys() == set(range(1, 12))
    for number, study in first.items():
        assert study.tasks == every[number].tasks[:1]
        assert dataclasses.replace(study, tasks=every[number].tasks) == every[number]

    def fine_tunings(chosen):
        return {(model, task) for study in chosen.values() for model in study.models for task in study.tasks}
    assert (len(fine_tunings(every)), len(fine_tunings(first))) == (48, 27)


def test_the_catalog_examples_hold():
    import doctest
    outcome = doctest.testmod(paper_studies.catalog)
    assert outcome.attempted >= 10 and outcome.failed == 0


def test_studies_10_and_11_move_to_the_largest_budget_when_budgets_are_given():
    plain = paper_studies.studies(paper_studies.Settings("w", "r", (1,), "t", "e", "g", "c"))
    assert plain[11].models == ("recipe", "recipe_restart", "recipe_restart_4x_batch", "recipe_long_tail")
    assert plain[11].better == "recipe_long_tail" and 9 not in plain
    budgets = paper_studies.studies(paper_studies.Settings("w", "r", (1,), "t", "e", "g", "c",
                                                           budget_steps=(4000, 12000)))
    assert budgets[10].models == ("recipe@12000", "recipe_bert_lr@12000", "recipe_batch_128@12000")
    assert budgets[11].better == "recipe_long_tail@12000"
    assert budgets[11].worse == ("recipe@12000", "recipe_restart@12000", "recipe_restart_4x_batch@12000")


def test_the_long_tail_continues_the_recipe_on_longer_windows(shared_data, tmp_path):
    # BERT's schedule in miniature: 90% of 10 updates at 32 tokens, then 1 update at 128 from that checkpoint,
    # through the real scripts.
    sample = REPO_ROOT / "examples" / "data" / "wiki_sample"
    settings = paper_studies.Settings(str(tmp_path), "r", (1,), str(sample / "train.txt"), str(sample / "heldout.txt"),
                                      "g", "c", max_seq_length=32, pretrain_steps=10, steps_per_loop=1,
                                      learned_vocab_size=1000, parallel_runs=1)
    result = paper_studies.Reproduction(settings).pretrain("recipe_long_tail")
    head = json.loads((tmp_path / "pretraining" / "recipe@9" / "result.json").read_text())
    tail = json.loads((tmp_path / "pretraining" / "recipe_long_tail" / "result.json").read_text())
    assert f"--init_checkpoint={tmp_path}/pretraining/recipe@9" in tail["command"]
    assert {"--max_seq_length=128", "--num_train_steps=1", "--max_predictions_per_seq=19"} <= set(tail["command"])
    assert {"--max_seq_length=32", "--num_train_steps=9"} <= set(head["command"])
    assert result["steps"] == 10 and result["long_tail"] == {"steps": 1, "seq_length": 128, "after": "recipe@9",
                                                             "head_seq_length": 32,
                                                             "head_wall_seconds": head["wall_seconds"]}
    assert result["wall_seconds"] == pytest.approx(head["wall_seconds"] + tail["wall_seconds"])
    assert [row["step"] for row in result["curve"]] == list(range(1, 11))  # the tail's step 1 is the 10th
    assert 0 < result["eval_results"]["mlm_accuracy"] < 1
    # The tail's windows hold 4x the tokens of the head's.
    instances = tmp_path / "data"
    assert (instances / "train_packed_learned_vocab_128" / "instances.tfrecord").stat().st_size > 0
    # Started again, both runs are reused.
    again = paper_studies.Reproduction(settings).pretrain("recipe_long_tail")
    assert again["cached"] and again["steps"] == 10
    # The control with the long tail's tokens at the first length: the same head, then 4 micro-batches per update.
    control = paper_studies.Reproduction(settings).pretrain("recipe_restart_4x_batch")
    tail = json.loads((tmp_path / "pretraining" / "recipe_restart_4x_batch" / "result.json").read_text())
    assert {"--max_seq_length=32", "--num_train_steps=1", "--grad_accum_steps=4",
            f"--init_checkpoint={tmp_path}/pretraining/recipe@9"} <= set(tail["command"])
    assert control["steps"] == 10 and control["long_tail"]["after"] == "recipe@9"


def test_study_10_changes_one_setting_of_the_recipe_a_row_at_the_same_sequences(tmp_path):
    catalog = paper_studies.catalog
    study = paper_studies.STUDIES[10]
    assert study.models[0] == study.better == "recipe" and set(study.worse) == set(catalog.RECIPE_CHOICES)
    _, recipe_flags, recipe_layout, _ = catalog.pretraining_entry("recipe")
    for name in catalog.RECIPE_CHOICES:
        _, flags, layout, _ = catalog.pretraining_entry(name)
        assert layout == recipe_layout and set(recipe_flags) < set(flags) and len(set(flags) - set(recipe_flags)) == 1
        assert catalog.sentence_pooling(name) == "mean"
    # The row's own value replaces the shared flag (one --learning_rate in the command), and accumulating 4
    # micro-batches per update takes a quarter of the updates: the same sequences as the recipe.
    settings = paper_studies.Settings(str(tmp_path), "r", (1,), "t", "e", "g", "c", pretrain_steps=4000)
    reproduction = paper_studies.Reproduction(settings, report_only=True)
    commands = {}
    for name, steps in (("recipe", 4000), ("recipe_bert_lr", 4000), ("recipe_batch_128", 1000)):
        with pytest.raises(paper_studies.runner.NotRun, match=rf"pretraining {name} \({steps} steps\)"):
            reproduction.pretrain(name)  # report-only: names the run it would start
        commands[name] = reproduction._pretrain_flags("d", steps, catalog.pretraining_entry(name)[1],
                                                      layout="packed_learned_vocab")
    rates = {name: [f for f in command if f.startswith("--learning_rate")] for name, command in commands.items()}
    assert rates == {"recipe": ["--learning_rate=0.001"], "recipe_bert_lr": ["--learning_rate=1e-4"],
                     "recipe_batch_128": ["--learning_rate=0.001"]}
    assert {"--num_warmup_steps=100", "--train_batch_size=32", "--grad_accum_steps=4"} \
        <= set(commands["recipe_batch_128"])


@pytest.mark.parametrize("sst2_examples, expected", [(8000, 2000), (500, 500), (0, 2000)])
def test_a_subset_takes_its_size_but_never_more_than_its_tasks_examples(sst2_examples, expected, monkeypatch):
    commands = {}

    def run_script(script, flag_list, run_dir, label, upstream=(), report_only=False, **kwargs):
        commands[label] = flag_list
        raise paper_studies.runner.NotRun(label)

    monkeypatch.setattr(paper_studies.reproduction, "run_script", run_script)
    settings = paper_studies.Settings("w", "r", (1,), "t", "e", "g", "c",
                                      train_examples=(("sst2", sst2_examples), ("mrpc", 0)))
    reproduction = paper_studies.Reproduction(settings)
    for task in ("sst2_2000", "sst2", "mrpc"):
        with pytest.raises(paper_studies.runner.NotRun):
            reproduction.finetune("minilm_finetune", task, 1, 1e-4)
    limits = {label.split()[2].rstrip(","): [f for f in flags if f.startswith("--max_train_examples")]
              for label, flags in commands.items()}
    assert limits == {"sst2_2000": [f"--max_train_examples={expected}"],
                      "sst2": [f"--max_train_examples={sst2_examples}"] if sst2_examples else [], "mrpc": []}


def test_long_tails_side_by_side_run_their_shared_first_run_once(tmp_path, monkeypatch):
    import concurrent.futures
    import threading
    import time

    started, lock = [], threading.Lock()

    def run_script(script, flag_list, run_dir, label, upstream=(), report_only=False, **kwargs):
        import os
        done = os.path.join(run_dir, "done")
        if os.path.exists(done):
            return {"signature": run_dir, "wall_seconds": 1.0, "eval_results": {}, "cached": True}
        with lock:
            started.append(os.path.basename(run_dir))
        time.sleep(0.3)  # long enough for a second thread to arrive while the first one runs
        os.makedirs(run_dir, exist_ok=True)
        with open(os.path.join(run_dir, "metrics.jsonl"), "w") as f:
            f.write('{"step": 1, "train_seconds": 1.0, "mlm_loss": 1.0}\n')
        open(done, "w").close()
        return {"signature": run_dir, "wall_seconds": 1.0, "eval_results": {}, "cached": False}

    monkeypatch.setattr(paper_studies.reproduction, "run_script", run_script)
    settings = paper_studies.Settings(str(tmp_path), "r", (1,), "t", "e", "g", "c", pretrain_steps=10)
    reproduction = paper_studies.Reproduction(settings)
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(reproduction.pretrain, ["recipe_long_tail", "recipe_restart"]))
    assert started.count("recipe@9") == 1 and {"recipe_long_tail", "recipe_restart"} <= set(started)


def test_a_finished_run_is_reused_from_another_checkout(tmp_path, monkeypatch):
    # Two checkouts of the examples at different paths share one work directory: the second reuses the run.
    script = ("import json, sys\n"
              "json.dump({'accuracy': float(sys.argv[2])}, open(sys.argv[1] + '/eval_results.json', 'w'))\n")
    for checkout in ("one", "two"):
        (tmp_path / checkout).mkdir()
        (tmp_path / checkout / "score.py").write_text(script)
    run_dir = str(tmp_path / "work" / "run")
    results = []
    for checkout in ("one", "two"):
        monkeypatch.setattr(paper_studies.runner, "EXAMPLES", str(tmp_path / checkout))
        results.append(paper_studies.runner.run_script("score.py", [run_dir, "0.5"], run_dir, "a run"))
    assert [r["cached"] for r in results] == [False, True] and results[1]["eval_results"] == {"accuracy": 0.5}
    # Other flags are another run.
    other = paper_studies.runner.run_script("score.py", [run_dir, "0.7"], run_dir, "a run")
    assert not other["cached"] and other["eval_results"] == {"accuracy": 0.7}


def test_missing_data_is_named(tmp_path):
    result = subprocess.run([sys.executable, "examples/reproduce_paper.py", f"--data_dir={tmp_path}"],
                            cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode != 0 and "glue/sst2/train.tsv is missing" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_budget_curve_gives_each_budgets_gain_and_where_its_trend_crosses_zero(tmp_path):
    settings = paper_studies.Settings("w", str(tmp_path), (1, 2), "t", "e", "g", "c", budget_steps=(4000, 36000))
    study = paper_studies.studies(settings)[8]
    assert study.models == ("scratch_recipe", "recipe", "recipe@36000") and study.worse == ("scratch_recipe",)
    # Random init at 70/71 and 40/42; the 4,000-step recipe 8 and 5 points behind, the 36,000-step one 4 and 1.
    scores = {("scratch_recipe", "sst2_2000"): [0.70, 0.71], ("scratch_recipe", "conll"): [0.40, 0.42],
              ("recipe", "sst2_2000"): [0.62, 0.63], ("recipe", "conll"): [0.35, 0.37],
              ("recipe@36000", "sst2_2000"): [0.66, 0.67], ("recipe@36000", "conll"): [0.40, 0.40]}
    results = _results(scores)
    curve = [{"step": 1, "mlm_loss": 9.0, "train_seconds": 1.0}]
    results["pretraining"] = {"recipe": {"steps": 4000, "wall_seconds": 300, "eval_results": {"mlm_accuracy": 0.13},
                                         "curve": curve},
                              "recipe@36000": {"steps": 36000, "wall_seconds": 2700, "curve": curve,
                                               "eval_results": {"mlm_accuracy": 0.2}}}
    rows = paper_studies.report.budget_rows(study, results)
    assert [(steps, minutes) for steps, minutes, _, _ in rows] == [(4000, 5.0), (36000, 45.0)]
    gain, standard_error = rows[0][3]["sst2_2000"]
    assert round(gain, 6) == -0.08 and round(standard_error, 6) == round((2 * 0.005 ** 2) ** 0.5, 6)
    # SST-2 gains -8 at 4,000 updates and -4 at 36,000: +4 points per factor of 9, so zero at 36,000 * 9 =
    # 324,000 updates, 405 min at the 36,000-update run's pace of 45 min.
    assert round(paper_studies.verdicts.crossing([4000, 36000], [-0.08, -0.04])) == 324_000
    paper_studies.write_report(settings, {**results, "probes": {}, "pending": [], "calibration": {},
                                          "wall_seconds": 1.0}, [8], "test")
    report = (tmp_path / "REPORT.md").read_text()
    assert "| 36,000 steps | 45.0 min | 0.2000 | -4.00 ± 0.71 | -1.00 ± 1.00 |" in report
    assert ("SST-2, 2,000 examples: negative at the largest budget; extrapolated, it reaches zero at about 324,000 "
            "updates (405 min here) of pretraining") in report
    # CoNLL: -5 at 4,000, -1 at 36,000, so zero a quarter of the next factor of 9 on: 36,000 * 9 ** 0.25 = 62,354.
    assert "CoNLL-2003 F1: negative at the largest budget; extrapolated, it reaches zero at about 62,354 updates (78 " \
        "min here)" in report
    # Pretrainings run side by side: their minutes are not results, so the crossing is in updates only.
    parallel = dataclasses.replace(settings, parallel_pretraining=True)
    paper_studies.write_report(parallel, {**results, "probes": {}, "pending": [], "calibration": {},
                                          "wall_seconds": 1.0}, [8], "test")
    assert "reaches zero at about 324,000 updates of pretraining" in (tmp_path / "REPORT.md").read_text()
    # A gain positive at the largest budget is placed where it stays positive; a flat one is not extrapolated.
    later = {("recipe", "sst2_2000"): [0.72, 0.73], ("recipe@36000", "sst2_2000"): [0.71, 0.72],
             ("recipe", "conll"): [0.399, 0.401], ("recipe@36000", "conll"): [0.42, 0.43]}
    results["finetuning"] = _results({**scores, **later})["finetuning"]
    paper_studies.write_report(settings, {**results, "probes": {}, "pending": [], "calibration": {},
                                          "wall_seconds": 1.0}, [8], "test")
    report = (tmp_path / "REPORT.md").read_text()
    assert "SST-2, 2,000 examples: the gain is positive from 4,000 updates (5 min here) of pretraining on." in report
    assert "CoNLL-2003 F1: the gain is positive from 36,000 updates (45 min here) of pretraining on." in report
    assert (tmp_path / "study_8_gain.png").stat().st_size > 10_000


@pytest.mark.parametrize("flag, message", [
    ("--seeds=1,a", "--seeds=1,a: give whole numbers separated by commas."),
    ("--finetune_learning_rates=5e-4,x", "--finetune_learning_rates=5e-4,x: give numbers separated by commas."),
    ("--finetune_learning_rates=0", "--finetune_learning_rates=0: give one or more positive rates"),
])
def test_bad_list_flags_are_named(flag, message):
    result = subprocess.run([sys.executable, "examples/reproduce_paper.py", flag],
                            cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode != 0 and message in result.stderr and "Traceback" not in result.stderr
