"""Flags shared by the example scripts, defined once so their names and help agree, and the helpers
that turn their values into a strategy and an encoder.

The helpers take the values as arguments: only a script's `main()` reads flags.
"""

import json
import os
import re
import shutil

from absl import flags


def define_checkpoint_flags():
    """--init_checkpoint, --vocab_file, --do_lower_case."""
    flags.DEFINE_string("init_checkpoint", None, "A preset name (examples/list_presets.py), hf://OWNER/NAME, a URL, "
                        "a gs:// path or any local layout load_encoder reads. Default: all-MiniLM-L6-v2.")
    flags.DEFINE_string("vocab_file", None, "Default: the vocab.txt beside the checkpoint.")
    define_lower_case_flag()


def define_lower_case_flag(name="do_lower_case"):
    """--do_lower_case: an override; by default the casing is the checkpoint's own."""
    flags.DEFINE_bool(name, None, "Override the checkpoint's casing (read from its tokenizer_config.json, its preset "
                      "record or its vocabulary); a contradicting value is used with a warning.")


def define_fine_tuning_flags(output_dir, max_seq_length=128, train_batch_size=32, learning_rate=5e-5,
                             num_train_epochs=3.0):
    """The checkpoint flags plus the training flags every fine-tuning script takes.

    The arguments are the script's defaults.
    """
    define_checkpoint_flags()
    flags.DEFINE_bool("random_init", False, "The checkpoint's architecture and vocabulary with fresh random weights "
                      "(a from-scratch baseline).")
    flags.DEFINE_string("output_dir", output_dir, "Where results, predictions and the model go.")
    flags.DEFINE_integer("max_seq_length", max_seq_length, "Packed length, [CLS] and [SEP] included.", lower_bound=3)
    flags.DEFINE_integer("train_batch_size", train_batch_size, "Examples per training step.", lower_bound=1)
    flags.DEFINE_float("learning_rate", learning_rate, "Peak AdamW learning rate.", lower_bound=0.0)
    flags.DEFINE_float("num_train_epochs", num_train_epochs, "Epochs (fractions allowed).", lower_bound=0.0)
    flags.DEFINE_float("warmup_proportion", 0.1, "Share of steps with linear warmup, then linear decay.",
                       lower_bound=0.0, upper_bound=1.0)
    flags.DEFINE_integer("seed", 42, "Seeds weight init, dropout and data order.", lower_bound=0)
    flags.DEFINE_integer("save_checkpoints_steps", None, "Steps between checkpoints in OUTPUT_DIR/training_state, "
                         "from which a killed run resumes when started again (default: once per epoch).", lower_bound=1)
    for name in ("learning_rate", "num_train_epochs"):  # 0 would train nothing, silently
        flags.register_validator(name, lambda value: value > 0, message=f"--{name} must be greater than 0.")
    define_run_flags()
    define_distribution_flags()
    define_lora_flags()


# keras_bert.models.lora.LORA_TARGETS, written out: flags are defined before TensorFlow is imported
# (common_flags_test checks that the two lists agree).
LORA_TARGETS = ("query", "key", "value", "attention_output", "intermediate_dense", "output_dense")


def define_lora_flags():
    """--lora_rank, --lora_alpha and --lora_target: fine-tune LoRA adapters instead of every weight."""
    flags.DEFINE_integer("lora_rank", None, "Fine-tune LoRA adapters of this rank on the encoder (frozen otherwise) "
                         "and the task head, instead of every weight. Default: full fine-tuning.", lower_bound=1)
    flags.DEFINE_float("lora_alpha", None, "--lora_rank: the adapters' update is scaled by alpha / rank "
                       "(default: alpha = rank).", lower_bound=0.0)
    # Every projection, not the LoRA paper's query and value: in 3-epoch fine-tuning of all-MiniLM-L6-v2 on
    # SST-2, query and value alone stayed 4.5 points below full fine-tuning, all six came within a point
    # (reports/embeddings.md).
    flags.DEFINE_list("lora_target", list(LORA_TARGETS), "--lora_rank: the projections of each block that get "
                      "adapters, among " + ", ".join(LORA_TARGETS) + ".")

    flags.register_validator("lora_alpha", lambda alpha: alpha is None or alpha > 0,
                             message="--lora_alpha must be greater than 0.")
    flags.register_validator("lora_target", lambda target: bool(target) and set(target) <= set(LORA_TARGETS),
                             message="--lora_target takes one or more of " + ", ".join(LORA_TARGETS) + ".")


def enable_lora_from_flags(model, values, strategy):
    """Enables LoRA on a new task model as --lora_rank/--lora_alpha/--lora_target ask; logs what trains.

    Raises:
        ValueError: a LoRA setting is invalid (naming the flag's value).
    """
    import numpy as np

    if values.lora_rank is None:
        return
    with strategy.scope():
        model.enable_lora(values.lora_rank, values.lora_alpha, values.lora_target)
    trainable = sum(int(np.prod(v.shape)) for v in model.trainable_weights)
    total = sum(int(np.prod(v.shape)) for v in model.weights)
    print(f"LoRA rank {values.lora_rank} on {', '.join(values.lora_target)}: {trainable:,} trainable parameters "
          f"of {total:,} ({100 * trainable / total:.2f}%).")


LORA_WEIGHTS_FILE = "lora_weights.npz"


def save_model(model, output_dir, model_file):
    """Saves a fine-tuned model to OUTPUT_DIR/model_file, and its LoRA adapters, if any, to lora_weights.npz.

    The `.keras` file holds the merged model (Keras folds the adapters into
    the kernels when saving); the adapter file is the small form, loaded with
    `model.load_lora_weights` onto the same base checkpoint.
    """
    model.save(os.path.join(output_dir, model_file))
    if getattr(model.encoder, "lora_settings", None):
        model.save_lora_weights(os.path.join(output_dir, LORA_WEIGHTS_FILE))


# What every fine-tuning script does, and how it evaluates while training; a test holds each script to this list.
FINE_TUNING_RUN_FLAGS = ("do_train", "do_eval", "do_predict", "eval_batch_size", "evaluation_strategy",
                         "eval_steps", "metric_for_best_model", "early_stopping_patience")


def define_run_flags():
    """--do_train, --do_eval, --do_predict and the flags of evaluation during training."""
    flags.DEFINE_bool("do_train", True, "Fine-tune on the training data.")
    flags.DEFINE_bool("do_eval", True, "Score the dev data (with the model trained now, or the one in "
                      "--output_dir when --nodo_train).")
    flags.DEFINE_bool("do_predict", False, "Write predictions for the test data (no labels needed) to --output_dir.")
    flags.DEFINE_integer("eval_batch_size", 64, "Examples per evaluation and prediction batch.", lower_bound=1)
    flags.DEFINE_enum("evaluation_strategy", "no", ["no", "steps", "epoch"],
                      "Score the dev data during training: never, every --eval_steps steps, or every epoch. The "
                      "model kept is then the best one by --metric_for_best_model.")
    flags.DEFINE_integer("eval_steps", None, "--evaluation_strategy=steps: steps between evaluations.", lower_bound=1)
    flags.DEFINE_string("metric_for_best_model", None, "The dev metric that picks the best model (default: the task's "
                        "headline metric, e.g. f1 for MRPC, mcc for CoLA); names ending in 'loss' are minimised.")
    flags.DEFINE_integer("early_stopping_patience", None, "Stop after this many evaluations without improvement of "
                         "--metric_for_best_model (needs --evaluation_strategy).", lower_bound=1)
    flags.register_multi_flags_validator(
        ["evaluation_strategy", "eval_steps"], lambda v: v["evaluation_strategy"] != "steps" or v["eval_steps"],
        message="--evaluation_strategy=steps needs --eval_steps.")
    flags.register_multi_flags_validator(
        ["evaluation_strategy", "early_stopping_patience"],
        lambda v: not v["early_stopping_patience"] or v["evaluation_strategy"] != "no",
        message="--early_stopping_patience needs --evaluation_strategy=steps or epoch.")


def resume_options(output_dir, save_checkpoints_steps):
    """`fit_for_steps` arguments that make a fine-tuning run resumable from OUTPUT_DIR/training_state."""
    return {"run_dir": os.path.join(output_dir, "training_state"), "save_checkpoints_steps": save_checkpoints_steps}


def define_distribution_flags():
    """--distribution_strategy, --tpu, --num_gpus, --num_cpu_devices, --mixed_precision, --jit_compile,
    --gradient_checkpointing, --deterministic."""
    flags.DEFINE_enum("distribution_strategy", "one_device",
                      ["one_device", "mirrored", "multi_worker_mirrored", "tpu"],
                      "tf.distribute strategy; multi_worker_mirrored reads TF_CONFIG.")
    flags.DEFINE_string("tpu", None, "TPU name or grpc:// address for --distribution_strategy=tpu.")
    flags.DEFINE_integer("num_gpus", None, "GPUs for mirrored (default: all).", lower_bound=1)
    flags.DEFINE_integer("num_cpu_devices", None, "Split the CPU into this many devices (mirrored without GPUs).",
                         lower_bound=1)
    flags.DEFINE_string("mixed_precision", "float32", "float32, bfloat16 or float16 (mixed; fp32 variables).")
    flags.DEFINE_bool("jit_compile", False, "Compile the train step with XLA.")
    flags.DEFINE_bool("gradient_checkpointing", False, "Recompute each Transformer block's activations in the "
                      "backward pass: less memory (longer sequences, bigger batches) for about a third more compute.")
    flags.DEFINE_bool("deterministic", False, "Deterministic TensorFlow ops: a rerun with the same --seed gives the "
                      "same losses (slower on GPUs).")


def with_flag_names(error, flag_names):
    """`error`'s message with the library's argument names replaced by the script's flags.

    The library names its own arguments (`seq_length=512`, `` `tpu` ``); a
    script user knows flags. Each `argument=` or `` `argument` `` in the
    message becomes `--flag=` or `--flag`.

    Args:
        error: an exception from the library.
        flag_names: `{library argument: flag name}`.

    Returns:
        The translated message (str).

    Example:
    >>> with_flag_names(ValueError("seq_length=600 exceeds max_position_embeddings=512."),
    ...                 {"seq_length": "max_seq_length"})
    '--max_seq_length=600 exceeds max_position_embeddings=512.'
    """
    message = str(error)
    for argument, flag in flag_names.items():
        message = re.sub(rf"(?<![\w.-]){re.escape(argument)}=", f"--{flag}=", message)
        message = message.replace(f"`{argument}`", f"--{flag}")
    return message


_DISTRIBUTION_ARGUMENTS = {"name": "distribution_strategy", "tpu": "tpu", "num_gpus": "num_gpus",
                           "precision": "mixed_precision"}


def make_strategy(distribution_strategy="one_device", num_gpus=None, tpu=None, num_cpu_devices=None,
                  mixed_precision="float32", deterministic=False):
    """Applies the distribution flags' values; returns the strategy.

    The arguments are the values of the flags `define_distribution_flags`
    defines. Build and compile models in the returned strategy's `scope()`.

    Raises:
        ValueError: for a bad flag value, naming the flag and the fix.
    """
    import tensorflow as tf

    from keras_bert.training import distribution

    if deterministic:
        tf.config.experimental.enable_op_determinism()
    if num_cpu_devices:
        distribution.split_cpu(num_cpu_devices)
    try:
        distribution.set_precision(mixed_precision)
        return distribution.get_strategy(distribution_strategy, num_gpus, tpu)
    except ValueError as e:
        raise ValueError(with_flag_names(e, _DISTRIBUTION_ARGUMENTS)) from None


def strategy_from_flags(values):
    """`make_strategy` with the distribution flags of parsed flag values (`flags.FLAGS`, passed by `main()`)."""
    return make_strategy(values.distribution_strategy, values.num_gpus, values.tpu, values.num_cpu_devices,
                         values.mixed_precision, values.deterministic)


def check_seq_length(max_seq_length, config, flag="--max_seq_length"):
    """Refuses a sequence length beyond the encoder's position table, naming the flag and both numbers.

    Raises:
        ValueError: `max_seq_length > config.max_position_embeddings`.
    """
    if max_seq_length > config.max_position_embeddings:
        raise ValueError(
            f"{flag}={max_seq_length} exceeds the checkpoint's max_position_embeddings="
            f"{config.max_position_embeddings}; use at most {config.max_position_embeddings}."
        )


def load_encoder(init_checkpoint, vocab_file, max_seq_length, strategy=None, random_init=False,
                 gradient_checkpointing=False, seq_length_flag="--max_seq_length", do_lower_case=None):
    """`(encoder, vocab_file, lower_case)` for a script: the checkpoint flags' encoder, in `strategy`'s scope.

    Every script that starts from a checkpoint loads it here, so each gets
    the same defaults (all-MiniLM-L6-v2, the vocab.txt beside the
    checkpoint, the checkpoint's casing) and the same checks, the packed
    length included.

    Args:
        init_checkpoint: --init_checkpoint; None for all-MiniLM-L6-v2.
        vocab_file: --vocab_file; None for the one beside the checkpoint.
        max_seq_length: the packed length the script will feed.
        strategy: optional `tf.distribute.Strategy` to build the encoder in.
        random_init: --random_init.
        gradient_checkpointing: --gradient_checkpointing.
        seq_length_flag: the flag `max_seq_length` came from, for the error.
        do_lower_case: --do_lower_case; None for the checkpoint's casing.

    Raises:
        ValueError: `max_seq_length` exceeds the checkpoint's position table
            (naming the flag), or the checkpoint or vocabulary is unusable.
        OSError: the checkpoint or vocabulary is missing.
    """
    import contextlib

    from keras_bert.checkpoints import load_encoder_and_vocab
    from keras_bert.presets import resolve_lower_case

    with strategy.scope() if strategy is not None else contextlib.nullcontext():
        encoder, found_vocab = load_encoder_and_vocab(init_checkpoint, vocab_file, random_init=random_init)
        encoder.gradient_checkpointing = gradient_checkpointing
    check_seq_length(max_seq_length, encoder.config, seq_length_flag)
    return encoder, found_vocab, resolve_lower_case(init_checkpoint, do_lower_case, vocab_file)


def make_output_dir(path, flag="--output_dir"):
    """Creates `path` and proves it writable, before hours of training depend on it.

    Raises:
        OSError: naming the flag, the directory and the reason (a file in the
            way, no permission, a full disk), with the fix.
    """
    try:
        os.makedirs(path, exist_ok=True)
        probe = os.path.join(path, f".write_test_{os.getpid()}")  # per process: workers may share the directory
        with open(probe, "w") as f:
            f.write("x" * 4096)
        os.remove(probe)
    except OSError as e:
        raise OSError(f"cannot write {flag}={path} ({e.strerror or e}); choose a writable directory "
                      "with free space.") from None
    return path


def save_serving_settings(output_dir, vocab_file, model_file, task, lower_case, max_seq_length, **settings):
    """Writes what export_saved_model.py needs beside a trained model in `output_dir` (--output_dir).

    `vocab.txt` (a copy) and `serving.json`: the model file, task, casing,
    sequence length and any task `settings` (label names, pair, ...).
    """
    shutil.copyfile(vocab_file, os.path.join(output_dir, "vocab.txt"))
    settings = dict(model_file=model_file, task=task, lower_case=lower_case, max_seq_length=max_seq_length,
                    **settings)
    with open(os.path.join(output_dir, "serving.json"), "w") as f:
        json.dump(settings, f, indent=2)


def read_serving_settings(model_dir, flag="--output_dir"):
    """The `serving.json` (see `save_serving_settings`) of a model trained into `model_dir` before.

    Raises:
        FileNotFoundError: there is none, naming `flag` and how to train one.
    """
    path = os.path.join(model_dir, "serving.json")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"No {path}: {flag}={model_dir} must be the --output_dir of a fine-tuning script "
                                "after training (run it with --do_train first).")
    with open(path) as f:
        return json.load(f)


def load_trained_model(model_dir, flag="--output_dir"):
    """`(model, settings)`: the fine-tuned Keras model saved in `model_dir` and its `serving.json`.

    Raises:
        FileNotFoundError: no trained model there, naming `flag`.
    """
    import keras

    import keras_bert.models  # noqa: F401 (registers the classes the .keras files hold)

    settings = read_serving_settings(model_dir, flag)
    return keras.saving.load_model(os.path.join(model_dir, settings["model_file"])), settings


def dev_evaluation(values, evaluate, steps, metric_names):
    """The `DevEvaluation` that the run flags of parsed flag `values` ask for; None for --evaluation_strategy=no.

    Args:
        values: parsed flag values (`flags.FLAGS`, passed by `main()`).
        evaluate: `evaluate(model)` -> `{metric name: float}` on the dev data.
        steps: the run's `TrainingSteps`.
        metric_names: the names `evaluate` returns, the task's headline metric
            (the default --metric_for_best_model) first.

    Raises:
        ValueError: naming the flag, for a metric `evaluate` does not give, or
            evaluation without training or dev data.
    """
    from keras_bert.training import DevEvaluation, evaluation_interval

    if values.evaluation_strategy == "no":
        if values.metric_for_best_model:
            raise ValueError("--metric_for_best_model picks among evaluations during training; pass "
                             "--evaluation_strategy=steps or epoch too.")
        return None
    if not (values.do_train and values.do_eval and metric_names):
        raise ValueError(f"--evaluation_strategy={values.evaluation_strategy} scores the dev data while training: it "
                         "needs --do_train and --do_eval.")
    metric = values.metric_for_best_model or metric_names[0]
    if metric not in metric_names:
        raise ValueError(f"--metric_for_best_model={metric} is not a dev metric of this task; use one of "
                         f"{', '.join(sorted(metric_names))}.")
    every = evaluation_interval(values.evaluation_strategy, values.eval_steps, steps)
    directory = os.path.join(resume_options(values.output_dir, None)["run_dir"], "best_model")
    return DevEvaluation(evaluate, steps, directory, every, metric, values.early_stopping_patience)


def best_evaluation_results(evaluation):
    """`{"step", "epoch"}` of the kept model's evaluation, for eval_results.json; `{}` without evaluation."""
    if evaluation is None or evaluation.best is None:
        return {}
    return {"step": evaluation.best["step"], "epoch": evaluation.best["epoch"]}


def check_run_files(values, **file_flags):
    """Checks that --do_train/--do_eval/--do_predict each have their file flag, and no file goes unused.

    Args:
        values: parsed flag values (`flags.FLAGS`, passed by `main()`).
        **file_flags: `{run flag: file flag}`, e.g. `do_train="train_file"`.

    Raises:
        ValueError: nothing to do, a run flag without its file, or a file
            given with its run flag off; naming both flags.
    """
    if not (values.do_train or values.do_eval or values.do_predict):
        raise ValueError("nothing to do: pass --do_train, --do_eval or --do_predict.")
    for run_flag, file_flag in file_flags.items():
        if getattr(values, run_flag) and not getattr(values, file_flag):
            raise ValueError(f"--{run_flag} needs --{file_flag} (or pass --no{run_flag}).")
        if getattr(values, file_flag) and not getattr(values, run_flag):
            raise ValueError(f"--{file_flag} is used with --{run_flag}, which is off; pass --{run_flag}.")
