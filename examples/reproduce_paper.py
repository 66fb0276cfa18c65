"""Checks BERT's central claims on this machine, in miniature, and writes a report with plots.

    python examples/reproduce_paper.py --quick            # every study, tiny sizes: a smoke run, ~13 min here
    python examples/reproduce_paper.py                    # the real run: a few hours on 2 CPU cores
    python examples/reproduce_paper.py --studies=1,3 --seeds=1,2,3,4,5

Eleven studies, each a claim beside what we measure (confirmed or not): 1 pretraining helps
(pretrained vs random init), 2 masked LM beats a left-to-right LM, 3 the NSP ablation,
4 feature-based vs fine-tuning on NER (all-MiniLM-L6-v2), 5 deeper is better at equal
pretraining time, 6 the 80/10/10 masking mix vs 100% [MASK] and 80/0/20; beyond the paper,
7 the small-budget recipe of run_pretraining.py against BERT's own setup, 8 study 1 with the
recipe at several pretraining budgets (--budget_steps), 9 study 2 with the recipe at the same
budgets, 10 the recipe's peak learning rate and batch against BERT's rate and a larger
batch through accumulation, and 11 the recipe at one sequence length against BERT's
schedule of a last 10% of updates on windows 4x as long. Linear probes of the frozen last layers
(probe_encoder.py) show what each pretraining taught.
Small BERTs are pretrained on ../shared/data/wiki by run_pretraining.py and fine-tuned by
run_classifier.py / run_ner.py (SST-2, MRPC, CoNLL-2003) with several seeds each. Every
run's folder, command and log stay under --work_dir; started again, finished runs are
reused, so an interrupted reproduction continues. Writes REPORT_DIR/REPORT.md,
results.json and one PNG per study.
"""

import os
import sys

from absl import app, flags

import paper_studies

_DATA = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "..", "shared", "data")
_SAMPLE = os.path.join(paper_studies.EXAMPLES, "data", "wiki_sample")

flags.DEFINE_list("studies", [str(n) for n in range(1, 12)], "Which studies to run (1-11).")
flags.DEFINE_list("budget_steps", None, "Pretraining budgets of the recipe, in updates, for studies 8 and 9's "
                  "curves (default 4000,12000,36000; --quick 20). Given, or with study 8 or 9 chosen, they also "
                  "move studies 10 and 11 to the largest budget (else at --pretrain_steps). The report gives each "
                  "one's wall time.")
flags.DEFINE_bool("probes", True, "Also probe the frozen last layer of the studies' random-init, MLM, LTR and recipe "
                  "models (probe_encoder.py: token identity, POS and chunk tags).")
flags.DEFINE_bool("quick", False, "Smoke-test sizes: the bundled Wikipedia sample, 20 pretraining steps, "
                  "small fine-tuning sets, one seed, each study's first task only, 200 CoNLL dev sentences. About 13 "
                  "minutes on 2 cores; the numbers mean nothing.")
flags.DEFINE_bool("every_task", None, "Fine-tune each study on all its tasks (default: yes, except with --quick, "
                  "which fine-tunes each on its first task only).")
flags.DEFINE_list("seeds", None, "Fine-tuning seeds (default 1,2,3; --quick: 1).")
flags.DEFINE_integer("parallel_runs", None, "Probes and fine-tunings run this many at a time (default 2: two small "
                     "TensorFlow processes keep 2 cores busier than one; --quick 4, whose short runs are mostly "
                     "single-threaded start-up and compilation); pretrainings run alone, since their wall times are "
                     "results, except with --quick or --parallel_pretraining.", lower_bound=1)
flags.DEFINE_bool("parallel_pretraining", None, "Run pretrainings --parallel_runs at a time too: sooner done, but "
                  "their wall times (studies 5 and 8) are then measured on a shared machine (default: only with "
                  "--quick).")
flags.DEFINE_bool("report_only", False, "Write the report from the finished runs under --work_dir; start none "
                  "(unfinished runs are listed as pending).")
flags.DEFINE_string("work_dir", None, "Runs, checkpoints and logs (default /tmp/keras_bert_paper[_quick]).")
flags.DEFINE_string("report_dir", None, "Where REPORT.md and the plots go (default reports/paper[_quick]).")
flags.DEFINE_string("data_dir", os.path.normpath(_DATA), "Folder with glue/, conll2003/ and wiki/.")
flags.DEFINE_string("pretrain_files", None, "Text to pretrain on (default: wiki_00..wiki_19; --quick: the bundled "
                    "sample).")
flags.DEFINE_string("pretrain_eval_files", None, "Held-out text (default: wiki_31; --quick: the bundled sample's).")
flags.DEFINE_integer("pretrain_steps", None, "Updates of each 2-layer pretraining (default 4000; --quick 20).",
                     lower_bound=1)
flags.DEFINE_integer("max_seq_length", 64, "Sequence length for pretraining and fine-tuning.", lower_bound=3)
flags.DEFINE_float("pretrain_learning_rate", 1e-3, "Peak pretraining lr (high: the budget is short).", lower_bound=0.0)
flags.DEFINE_float("finetune_epochs", None, "Fine-tuning epochs (default 3; --quick 1).", lower_bound=0.0)
flags.DEFINE_list("finetune_learning_rates", None, "Fine-tuning lrs of the small pretrained/random models; each "
                  "model takes, per task, the one with the best seed mean on the dev set (default 5e-4,1e-3; "
                  "--quick 1e-3).")
flags.DEFINE_integer("sst2_examples", None, "SST-2 training examples (default 8000; --quick 200; 0: all 67,349).",
                     lower_bound=0)
flags.DEFINE_integer("mrpc_examples", None, "MRPC training examples (default 0 = all 3,668; --quick 200).",
                     lower_bound=0)
flags.DEFINE_integer("conll_examples", None, "CoNLL-2003 training sentences (default 3000; --quick 200; 0: all).",
                     lower_bound=0)
flags.DEFINE_integer("learned_vocab_size", None, "Study 7's vocabulary, learned from the pretraining text "
                     "(default 8192; --quick 2000).", lower_bound=100)
flags.DEFINE_float("minilm_epochs", None, "Study 4's epochs (all-MiniLM-L6-v2; default 2; --quick 1).", lower_bound=0.0)
flags.DEFINE_float("minilm_learning_rate", 1e-4, "Study 4's fine-tuning lr (high for its short schedule).",
                   lower_bound=0.0)
FLAGS = flags.FLAGS


def _pick(value, full, quick, is_quick):
    """`value` if the flag was given, else the full run's or the --quick run's default."""
    return value if value is not None else (quick if is_quick else full)


def _numbers(flag, values, kind):
    """The items of the list flag `--flag` as `kind` (int or float); a ValueError naming the flag if one is not."""
    try:
        return tuple(kind(value) for value in values)
    except ValueError:
        raise ValueError(f"--{flag}={','.join(values)}: give {'whole ' if kind is int else ''}numbers separated by "
                         "commas.") from None


def main(argv):
    del argv
    data = FLAGS.data_dir
    suffix = "_quick" if FLAGS.quick else ""
    repo = os.path.dirname(paper_studies.EXAMPLES)
    try:
        studies = sorted(set(_numbers("studies", FLAGS.studies, int)))
        if not set(studies) <= set(range(1, 12)):
            raise ValueError(f"--studies={','.join(FLAGS.studies)}: the studies are 1 to 11.")
        seeds = _numbers("seeds", _pick(FLAGS.seeds, ["1", "2", "3"], ["1"], FLAGS.quick), int)
        budget_steps = _numbers("budget_steps", _pick(FLAGS.budget_steps, ["4000", "12000", "36000"], ["20"],
                                                      FLAGS.quick), int)
        rates = _pick(FLAGS.finetune_learning_rates, ["5e-4", "1e-3"], ["1e-3"], FLAGS.quick)
        finetune_learning_rates = _numbers("finetune_learning_rates", rates, float)
        if not finetune_learning_rates or min(finetune_learning_rates) <= 0:
            raise ValueError(f"--finetune_learning_rates={','.join(rates)}: give one or more positive rates, e.g. "
                             "5e-4,1e-3.")
        budget_studies = {8, 9} & set(studies)
        if budget_studies and not budget_steps:
            raise ValueError("studies 8 and 9 need --budget_steps (pretraining updates per budget), or leave them "
                             "out of --studies.")
    except ValueError as e:
        sys.exit(f"reproduce_paper.py: {e}")
    for path in ("glue/sst2/train.tsv", "glue/mrpc/train.tsv", "conll2003/train.txt"):
        if not os.path.isfile(os.path.join(data, path)):
            sys.exit(f"reproduce_paper.py: {os.path.join(data, path)} is missing; point --data_dir at the folder "
                     "holding glue/, conll2003/ and wiki/ (../shared/data beside the project).")
    settings = paper_studies.Settings(
        work_dir=FLAGS.work_dir or f"/tmp/keras_bert_paper{suffix}",
        report_dir=FLAGS.report_dir or os.path.join(repo, "reports", f"paper{suffix}"),
        seeds=seeds,
        pretrain_files=_pick(FLAGS.pretrain_files, os.path.join(data, "wiki", "wiki_[01]*"),
                             os.path.join(_SAMPLE, "train.txt"), FLAGS.quick),
        pretrain_eval_files=_pick(FLAGS.pretrain_eval_files, os.path.join(data, "wiki", "wiki_31"),
                                  os.path.join(_SAMPLE, "heldout.txt"), FLAGS.quick),
        glue_dir=os.path.join(data, "glue"),
        conll_dir=os.path.join(data, "conll2003"),
        max_seq_length=FLAGS.max_seq_length,
        pretrain_steps=_pick(FLAGS.pretrain_steps, 4000, 20, FLAGS.quick),
        pretrain_learning_rate=FLAGS.pretrain_learning_rate,
        steps_per_loop=20 if FLAGS.quick else 100,
        calibration_steps=10 if FLAGS.quick else 30,
        train_examples=(("sst2", _pick(FLAGS.sst2_examples, 8000, 200, FLAGS.quick)),
                        ("mrpc", _pick(FLAGS.mrpc_examples, 0, 200, FLAGS.quick)),
                        ("conll", _pick(FLAGS.conll_examples, 3000, 200, FLAGS.quick))),
        conll_eval_sentences=200 if FLAGS.quick else 0,
        finetune_epochs=_pick(FLAGS.finetune_epochs, 3.0, 1.0, FLAGS.quick),
        minilm_epochs=_pick(FLAGS.minilm_epochs, 2.0, 1.0, FLAGS.quick),
        minilm_learning_rate=FLAGS.minilm_learning_rate,
        finetune_learning_rates=finetune_learning_rates,
        learned_vocab_size=_pick(FLAGS.learned_vocab_size, 8192, 2000, FLAGS.quick),
        probe_train_sentences=_pick(None, 3000, 300, FLAGS.quick),
        budget_steps=budget_steps if budget_studies or FLAGS.budget_steps is not None else (),
        parallel_runs=_pick(FLAGS.parallel_runs, 2, 4, FLAGS.quick),
        parallel_pretraining=_pick(FLAGS.parallel_pretraining, False, True, FLAGS.quick),
        every_task=_pick(FLAGS.every_task, True, False, FLAGS.quick),
        quick=FLAGS.quick,
    )
    command = "python examples/reproduce_paper.py " + " ".join(sys.argv[1:])
    reproduction = paper_studies.Reproduction(settings, report_only=FLAGS.report_only)
    try:
        results = reproduction.run(studies, probes=FLAGS.probes)
    except paper_studies.RunFailed as e:
        sys.exit(f"reproduce_paper.py: {e}\nFix the cause and start the same command again: finished runs "
                 "are kept.")
    verdicts = paper_studies.write_report(settings, results, studies, command.strip())
    for number, (word, _) in verdicts.items():
        print(f"Study {number} ({paper_studies.studies(settings)[number].title}): {word}")
    print(f"Report: {os.path.join(settings.report_dir, 'REPORT.md')}")


if __name__ == "__main__":
    app.run(main)
