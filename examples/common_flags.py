"""Flags shared by the example scripts, defined once so their names and help agree."""

import json
import os
import shutil

from absl import flags


def define_checkpoint_flags():
    """--init_checkpoint, --vocab_file, --do_lower_case."""
    flags.DEFINE_string("init_checkpoint", None, "Any layout load_encoder reads. Default: all-MiniLM-L6-v2.")
    flags.DEFINE_string("vocab_file", None, "Default: the vocab.txt beside the checkpoint.")
    flags.DEFINE_bool("do_lower_case", True, "Whether the vocabulary is uncased.")


def define_fine_tuning_flags(output_dir, max_seq_length=128, train_batch_size=32, learning_rate=5e-5,
                             num_train_epochs=3.0):
    """The checkpoint flags plus the training flags every fine-tuning script takes.

    The arguments are the script's defaults.
    """
    define_checkpoint_flags()
    flags.DEFINE_bool("random_init", False, "The checkpoint's architecture and vocabulary with fresh random weights "
                      "(a from-scratch baseline).")
    flags.DEFINE_string("output_dir", output_dir, "Where results, predictions and the model go.")
    flags.DEFINE_integer("max_seq_length", max_seq_length, "Packed length, [CLS] and [SEP] included.")
    flags.DEFINE_integer("train_batch_size", train_batch_size, "Examples per training step.")
    flags.DEFINE_float("learning_rate", learning_rate, "Peak AdamW learning rate.")
    flags.DEFINE_float("num_train_epochs", num_train_epochs, "Epochs (fractions allowed).")
    flags.DEFINE_float("warmup_proportion", 0.1, "Share of steps with linear warmup, then linear decay.")
    flags.DEFINE_integer("seed", 42, "Seeds weight init, dropout and data order.")
    flags.DEFINE_integer("save_checkpoints_steps", None, "Steps between checkpoints in OUTPUT_DIR/training_state, "
                         "from which a killed run resumes when started again (default: once per epoch).")
    define_distribution_flags()


def resume_options():
    """`fit_for_steps` arguments that make a fine-tuning run resumable from OUTPUT_DIR/training_state."""
    return {"run_dir": os.path.join(flags.FLAGS.output_dir, "training_state"),
            "save_checkpoints_steps": flags.FLAGS.save_checkpoints_steps}


def define_distribution_flags():
    """--distribution_strategy, --tpu, --num_gpus, --num_cpu_devices, --mixed_precision, --jit_compile,
    --gradient_checkpointing, --deterministic."""
    flags.DEFINE_enum("distribution_strategy", "one_device",
                      ["one_device", "mirrored", "multi_worker_mirrored", "tpu"],
                      "tf.distribute strategy; multi_worker_mirrored reads TF_CONFIG.")
    flags.DEFINE_string("tpu", None, "TPU name or grpc:// address for --distribution_strategy=tpu.")
    flags.DEFINE_integer("num_gpus", None, "GPUs for mirrored (default: all).")
    flags.DEFINE_integer("num_cpu_devices", None, "Split the CPU into this many devices (mirrored without GPUs).")
    flags.DEFINE_string("mixed_precision", "float32", "float32, bfloat16 or float16 (mixed; fp32 variables).")
    flags.DEFINE_bool("jit_compile", False, "Compile the train step with XLA.")
    flags.DEFINE_bool("gradient_checkpointing", False, "Recompute each Transformer block's activations in the "
                      "backward pass: less memory (longer sequences, bigger batches) for about a third more compute.")
    flags.DEFINE_bool("deterministic", False, "Deterministic TensorFlow ops: a rerun with the same --seed gives the "
                      "same losses (slower on GPUs).")


def strategy_from_flags():
    """Applies --num_cpu_devices, --mixed_precision and --deterministic; returns the strategy.

    Build and compile models in the returned strategy's `scope()`.

    Raises:
        ValueError: for a bad flag value (the message names the fix).
    """
    import tensorflow as tf

    from keras_bert.training import distribution

    if flags.FLAGS.deterministic:
        tf.config.experimental.enable_op_determinism()
    if flags.FLAGS.num_cpu_devices:
        distribution.split_cpu(flags.FLAGS.num_cpu_devices)
    distribution.set_precision(flags.FLAGS.mixed_precision)
    return distribution.get_strategy(flags.FLAGS.distribution_strategy, flags.FLAGS.num_gpus, flags.FLAGS.tpu)


def make_output_dir(path, flag="--output_dir"):
    """Creates `path` and proves it writable, before hours of training depend on it.

    Raises:
        OSError: naming the flag, the directory and the reason (a file in the
            way, no permission, a full disk), with the fix.
    """
    try:
        os.makedirs(path, exist_ok=True)
        probe = os.path.join(path, ".write_test")
        with open(probe, "w") as f:
            f.write("x" * 4096)
        os.remove(probe)
    except OSError as e:
        raise OSError(f"cannot write {flag}={path} ({e.strerror or e}); choose a writable directory "
                      "with free space.") from None
    return path


def save_serving_settings(vocab_file, model_file, task, **settings):
    """Writes what export_saved_model.py needs beside a trained model in --output_dir.

    `vocab.txt` (a copy) and `serving.json`: the model file, task, casing,
    sequence length and any task `settings` (label names, pair, ...).
    """
    output_dir = flags.FLAGS.output_dir
    shutil.copyfile(vocab_file, os.path.join(output_dir, "vocab.txt"))
    settings = dict(model_file=model_file, task=task, lower_case=flags.FLAGS.do_lower_case,
                    max_seq_length=flags.FLAGS.max_seq_length, **settings)
    with open(os.path.join(output_dir, "serving.json"), "w") as f:
        json.dump(settings, f, indent=2)
