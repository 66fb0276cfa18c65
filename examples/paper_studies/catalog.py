"""What the reproduction studies: its settings, the pretrained and fine-tuned models, the tasks, and the six claims."""

import dataclasses


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
    # The small models' fine-tuning rates: each model takes the one with the best seed mean on each task's dev
    # set, as the paper chose among 5e-5..2e-5 (a pretrained encoder and a random one need not share a rate).
    finetune_learning_rates: tuple = (5e-4, 1e-3)
    minilm_learning_rate: float = 1e-4  # 5e-5 left it undertrained in study 4's ~190 steps (F1 0.59-0.65)
    feature_learning_rate: float = 1e-3
    lstm_units: int = 128
    learned_vocab_size: int = 8192  # study 7's vocabulary, learned from pretrain_files
    probe_train_sentences: int = 3000
    budget_steps: tuple = ()  # study 8's pretraining budgets, in updates (empty: no study 8)
    parallel_runs: int = 2  # probes and fine-tunings at a time
    # Pretrainings run alone unless this is set: their wall times are results (studies 5 and 8), except in a
    # smoke run.
    parallel_pretraining: bool = False
    every_task: bool = True  # False: each study fine-tunes on its first task only (a smoke run's time)
    quick: bool = False


# Pretraining instances: layout -> (create_pretraining_data.py flags, made with the vocabulary learned from the
# pretraining text instead of BERT's).
INSTANCES = {
    "pairs": ([], False),
    "packed": (["--packed_sequences"], False),
    "packed_learned_vocab": (["--packed_sequences"], True),
}
# The small-budget recipe (study 7), one change at a time; each row keeps the ones above it. The last row is
# run_pretraining.py's --recipe=small_budget with a vocabulary learned from the pretraining text.
RECIPE = {
    "recipe_no_dropout": ("MLM + NSP, dropout off", ["--dropout=0"], "pairs"),
    "recipe_packed": ("+ packed windows, MLM only, sentence tasks read the tokens' mean", ["--dropout=0"], "packed"),
    "recipe": ("+ vocabulary learned from the corpus (the recipe)", ["--recipe=small_budget"], "packed_learned_vocab"),
}
# The recipe with one of its choices changed (study 10): each row differs from the recipe in one setting.
RECIPE_CHOICES = {
    "recipe_bert_lr": ("The recipe at BERT's peak learning rate (1e-4)",
                       ["--recipe=small_budget", "--learning_rate=1e-4"], "packed_learned_vocab"),
    "recipe_batch_128": ("The recipe with batches of 128 (4 accumulated micro-batches, a quarter of the updates)",
                         ["--recipe=small_budget", "--grad_accum_steps=4"], "packed_learned_vocab"),
}
# The recipe with the left-to-right objective (study 9): study 2's comparison at each of study 8's budgets.
LTR_RECIPE = {"ltr_recipe": ("Left-to-right LM, the recipe's data and settings",
                             ["--recipe=small_budget", "--objective=ltr"], "packed_learned_vocab")}
# The recipe with BERT's two sequence lengths (study 11): the paper pretrained 90% of its updates on 128 tokens and
# the last 10% on 512. Here: the first `share` of the updates are `first`'s run, and the rest continue from it
# (run_pretraining.py --init_checkpoint, its own warmup and decay, `tail_flags`) on windows `multiple` times as
# long. The two controls continue at the same length: once as is (the second schedule alone), once with 4x the
# sequences per update (also the long tail's tokens).
LONG_TAILS = {  # name -> (first, share, multiple, tail_flags)
    "recipe_long_tail": ("recipe", 0.9, 4, []),
    "recipe_restart": ("recipe", 0.9, 1, []),
    "recipe_restart_4x_batch": ("recipe", 0.9, 1, ["--grad_accum_steps=4"]),
}

# Pretrained models: name -> (description, run_pretraining.py flags beyond the shared ones[, instance layout]).
PRETRAININGS = {
    "bert": ("MLM + NSP, 80/10/10 masking (BERT)", []),
    "mlm_only": ("MLM only (No NSP)", ["--next_sentence_prediction=false"]),
    "ltr": ("Left-to-right LM, no NSP (LTR & No NSP)", ["--objective=ltr", "--next_sentence_prediction=false"]),
    "mask_100_0_0": ("MLM + NSP, 100% [MASK]", ["--mask_token_rate=1.0", "--random_token_rate=0.0"]),
    "mask_80_0_20": ("MLM + NSP, 80% [MASK] / 20% unchanged", ["--mask_token_rate=0.8", "--random_token_rate=0.0"]),
    "layers_4": ("MLM + NSP, 4 layers, equal time", ["--num_layers=4"]),
    "layers_6": ("MLM + NSP, 6 layers, equal time", ["--num_layers=6"]),
    **RECIPE,
    **RECIPE_CHOICES,
    **LTR_RECIPE,
    "recipe_long_tail": ("The recipe, its last 10% of updates on windows 4x as long (BERT's 128 then 512)",
                         ["--recipe=small_budget"], "packed_learned_vocab"),
    "recipe_restart": ("The recipe, its last 10% of updates a second schedule at the same length",
                       ["--recipe=small_budget"], "packed_learned_vocab"),
    "recipe_restart_4x_batch": ("The recipe, its last 10% of updates a second schedule at the same length, 4x the "
                                "sequences per update (the long tail's tokens)",
                                ["--recipe=small_budget"], "packed_learned_vocab"),
}


def pretraining_entry(name):
    """`(description, flags, instance layout, steps or None)` of a pretraining.

    `NAME@STEPS` is pretraining NAME for STEPS updates instead of the
    settings' (study 8's budgets).

    >>> pretraining_entry("recipe@12000")[::2]
    ('+ vocabulary learned from the corpus (the recipe), 12,000 steps', 'packed_learned_vocab')
    """
    base, _, steps = name.partition("@")
    description, flag_list, *layout = PRETRAININGS[base]
    if steps:
        description = f"{description}, {int(steps):,} steps"
    return description, flag_list, layout[0] if layout else "pairs", int(steps) if steps else None


# Models whose sentence-task head reads the mean of the last layer's token vectors (run_classifier.py
# --pooling=mean) instead of the pooler over [CLS]: MLM-only pretraining (no NSP) leaves the pooler untrained, and
# the recipe's random-init baseline shares the recipe's fine-tuning.
MEAN_POOLED = ("recipe_packed", "recipe", "scratch_recipe", "ltr_recipe", *RECIPE_CHOICES, *LONG_TAILS)


def sentence_pooling(name):
    """run_classifier.py's --pooling for a fine-tuned model (`NAME@STEPS` as NAME).

    >>> sentence_pooling("recipe@12000"), sentence_pooling("bert")
    ('mean', 'pooler')
    """
    return "mean" if name.partition("@")[0] in MEAN_POOLED else "pooler"


def trains_next_sentence(name):
    """Whether a pretraining trains the next-sentence head (MLM-only runs still report the untrained one's scores).

    >>> trains_next_sentence("bert"), trains_next_sentence("mlm_only"), trains_next_sentence("recipe@12000")
    (True, False, False)
    """
    _, flag_list, layout, _ = pretraining_entry(name)
    return layout == "pairs" and "--next_sentence_prediction=false" not in flag_list


def is_left_to_right(name):
    """Whether a pretraining trains the left-to-right LM (its held-out accuracy is next-token accuracy).

    >>> is_left_to_right("ltr"), is_left_to_right("ltr_recipe@36000"), is_left_to_right("recipe")
    (True, True, False)
    """
    return "--objective=ltr" in pretraining_entry(name)[1]


def accumulation_steps(name):
    """Micro-batches per update of a pretraining: its updates are the settings' divided by this (same sequences).

    >>> accumulation_steps("recipe_batch_128"), accumulation_steps("recipe")
    (4, 1)
    """
    return micro_batches(pretraining_entry(name)[1])


def long_tail(name):
    """`LONG_TAILS`' `(first, share, multiple, tail_flags)` of a pretraining (`NAME@STEPS` as NAME), or None.

    >>> long_tail("recipe_long_tail@12000")[1:3], long_tail("recipe")
    ((0.9, 4), None)
    """
    return LONG_TAILS.get(name.partition("@")[0])


def micro_batches(flag_list):
    """`--grad_accum_steps` in run_pretraining.py flags (1 if absent).

    >>> micro_batches(["--recipe=small_budget", "--grad_accum_steps=4"])
    4
    """
    flag = next((f for f in flag_list if f.startswith("--grad_accum_steps=")), "=1")
    return int(flag.partition("=")[2])


def uses_learned_vocab(model):
    """Whether a fine-tuned model's pretraining reads the vocabulary learned from the pretraining text.

    >>> uses_learned_vocab("scratch_recipe"), uses_learned_vocab("ltr_recipe@36000"), uses_learned_vocab("bert")
    (True, True, False)
    >>> uses_learned_vocab("minilm_finetune")  # no pretraining of ours
    False
    """
    pretrained = model_entry(model)[1]
    return bool(pretrained) and INSTANCES[pretraining_entry(pretrained)[2]][1]


def model_entry(name):
    """`MODELS[name]`; `NAME@STEPS` is that pretraining, fine-tuned like the other small models."""
    return (pretraining_entry(name)[0], name, [], "tiny") if "@" in name else MODELS[name]


# Fine-tuned models: name -> (label, pretrained model or None for all-MiniLM-L6-v2, extra flags, rate kind).
MODELS = {
    "scratch": ("random init (same architecture)", "bert", ["--random_init"], "tiny"),
    "scratch_recipe": ("random init (the recipe's vocabulary)", "recipe", ["--random_init"], "tiny"),
    **{name: (entry[0], name, [], "tiny") for name, entry in PRETRAININGS.items()},
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
    # A budget curve: `(model, baseline)` per budget, and what their difference is called in the report.
    curve: tuple = ()
    curve_label: str = ""


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
    7: Study(7, "A small-budget recipe",
             "At the same budget, the recipe (packed MLM-only windows, dropout off, a vocabulary learned from the "
             "corpus; sentence tasks fine-tuned on the mean of the token vectors) transfers better than BERT's own "
             "setup, and than no pretraining of the same architecture.",
             "Not the paper's claim: the small-budget work after it (Izsak et al. 2021, \"How to Train BERT with an "
             "Academic Budget\"; Geiping and Goldstein 2022, \"Cramming\") drops NSP for packed sequences and "
             "turns dropout off. Each recipe row adds one change to the row above.",
             ("scratch", "bert", "scratch_recipe", "recipe", "recipe_no_dropout", "recipe_packed"),
             ("sst2_2000", "conll"), "recipe",
             ("bert", "scratch_recipe")),
    10: Study(10, "The recipe's learning rate and batch",
              "At the same budget (the same sequences), the recipe's peak learning rate (1e-3) and batch (32) "
              "transfer at least as well as BERT's peak rate (1e-4), and as batches of 128 through gradient "
              "accumulation.",
              "Not the paper's claim: BERT pretrained at peak lr 1e-4 with batches of 256; the small-budget work "
              "(Izsak et al. 2021; Geiping and Goldstein 2022) raised the peak rate to about 1e-3 and reached "
              "large batches through accumulation. Each row changes one setting of the recipe.",
              ("recipe", *RECIPE_CHOICES), ("sst2_2000", "conll"), "recipe", tuple(RECIPE_CHOICES)),
    11: Study(11, "Pretraining's last 10% on longer windows",
              "At the same updates, BERT's schedule (the last 10% of updates on windows 4x as long) transfers better "
              "than pretraining only at the fine-tuning length: than the recipe, than the same second schedule at "
              "that length, and than that schedule with as many tokens (4x the sequences per update).",
              "BERT pretrained 90% of its updates on 128 tokens and the last 10% on 512, to learn the position "
              "embeddings that long inputs need (Appendix A.2); the small-budget work (Izsak et al. 2021; Geiping "
              "and Goldstein 2022) trains at 128 throughout. Here 64 then 256, and fine-tuning at 64, so the long "
              "positions themselves are never used. The two controls separate the windows' length from the second "
              "warmup and decay, and from the tail's extra tokens.",
              ("recipe", "recipe_restart", "recipe_restart_4x_batch", "recipe_long_tail"), ("sst2_2000", "conll"),
              "recipe_long_tail", ("recipe", "recipe_restart", "recipe_restart_4x_batch")),
}


def studies(settings):
    """`{number: Study}` for a reproduction's settings.

    Without `settings.budget_steps`: the fixed studies 1-7, 10 and 11, the
    last two at the settings' budget. With budgets: also study 8 (study 1's
    comparison at each budget) and study 9 (study 2's at each budget), and
    studies 10 and 11 at the largest budget. Without `settings.every_task`,
    each study keeps its first task only.

    >>> settings = Settings("w", "r", (1,), "t", "e", "g", "c", budget_steps=(4000, 12000))
    >>> studies(settings)[9].models
    ('ltr_recipe', 'recipe', 'ltr_recipe@12000', 'recipe@12000')
    >>> studies(settings)[11].models
    ('recipe@12000', 'recipe_restart@12000', 'recipe_restart_4x_batch@12000', 'recipe_long_tail@12000')
    >>> studies(dataclasses.replace(settings, every_task=False))[1].tasks
    ('sst2',)
    """
    if not settings.every_task:
        return {number: dataclasses.replace(study, tasks=study.tasks[:1])
                for number, study in studies(dataclasses.replace(settings, every_task=True)).items()}
    if not settings.budget_steps:
        return STUDIES

    def at_budget(name, steps):  # the settings' own budget is study 7's run of that name
        return name if steps == settings.pretrain_steps else f"{name}@{steps}"

    def at_largest(study):
        largest = max(settings.budget_steps)
        return dataclasses.replace(study, models=tuple(at_budget(m, largest) for m in study.models),
                                   better=at_budget(study.better, largest),
                                   worse=tuple(at_budget(m, largest) for m in study.worse))

    # Study 7's two small-data tasks (where the paper saw pretraining help most) and the cheapest fine-tunings:
    # the curve's runs fit an afternoon.
    models = tuple(at_budget("recipe", steps) for steps in settings.budget_steps)
    ltr_models = tuple(at_budget("ltr_recipe", steps) for steps in settings.budget_steps)
    return {
        **STUDIES,
        8: Study(8, "Pretraining helps, by budget",
                 "With the small-budget recipe, fine-tuning a pretrained model beats random initialisation of the "
                 "same architecture, and more so as the pretraining budget grows.",
                 "The paper's premise (study 1) as a curve: the same comparison after each pretraining budget.",
                 ("scratch_recipe", *models), STUDIES[7].tasks, models[-1], ("scratch_recipe",),
                 curve=tuple((model, "scratch_recipe") for model in models),
                 curve_label="gain of pretraining over random init"),
        9: Study(9, "Bidirectional beats left-to-right, with the recipe",
                 f"With the recipe, the masked LM transfers better than a left-to-right LM pretrained on the same "
                 f"packed windows, vocabulary and settings: at the largest budget ({max(settings.budget_steps):,} "
                 "steps), and more so as the budget grows.",
                 STUDIES[2].paper + " Study 2 compares them at BERT's setup and study 7's budget; this compares "
                 "them with the recipe, at each of study 8's budgets.",
                 tuple(m for pair in zip(ltr_models, models) for m in pair), ("sst2_2000", "mrpc", "conll"),
                 models[-1], (ltr_models[-1],), curve=tuple(zip(models, ltr_models)),
                 curve_label="masked LM's lead over the left-to-right LM"),
        10: at_largest(STUDIES[10]),
        11: at_largest(STUDIES[11]),
    }


# Linear probes of the frozen last layer (probe_encoder.py): probe -> its name in the report; the models probed
# (and the same pretrainings at other budgets, `NAME@STEPS`).
PROBES = {"token_identity": "token identity", "pos": "POS tag", "chunk": "chunk tag"}
PROBED_MODELS = ("scratch", "bert", "mlm_only", "ltr", "scratch_recipe", "recipe", "ltr_recipe")
