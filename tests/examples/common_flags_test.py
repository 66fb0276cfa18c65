"""examples/common_flags.py: every script loads its encoder through one helper, with the same checks."""

import ast
import subprocess
import sys

import pytest

from conftest import REPO_ROOT

sys.path.insert(0, str(REPO_ROOT / "examples"))
import common_flags  # noqa: E402

# Every example script that starts from an encoder checkpoint, and the helper its main() calls.
ENCODER_SCRIPTS = {
    "run_classifier.py": "load_encoder",
    "run_ner.py": "load_encoder",
    "run_squad.py": "load_encoder",
    "run_multiple_choice.py": "load_encoder",
    "extract_features.py": "load_encoder",
    "encode_sentences.py": "load_encoder",
    "train_embeddings.py": "load_encoder",
    "run_pretraining.py": "check_seq_length",  # builds from a config or checkpoint, with its heads
}


@pytest.fixture(scope="module")
def tiny_checkpoint(tmp_path_factory):
    """A 1-layer encoder with 16 positions in Google's layout, its vocab.txt beside it."""
    from keras_bert import BertEncoder, save_tf1_checkpoint

    directory = tmp_path_factory.mktemp("tiny")
    vocab = directory / "vocab_in.txt"
    vocab.write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "good"]))
    encoder = BertEncoder(vocab_size=23, hidden_size=8, num_layers=1, num_attention_heads=2, intermediate_size=12,
                          max_position_embeddings=16)
    save_tf1_checkpoint(encoder, str(directory), vocab_file=str(vocab))
    return str(directory)


def _calls_in_main(script):
    tree = ast.parse((REPO_ROOT / "examples" / script).read_text())
    main = next(node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name == "main")
    return {
        (node.func.value.id, node.func.attr)
        for node in ast.walk(main)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Name)
    }


@pytest.mark.parametrize("script", sorted(ENCODER_SCRIPTS))
def test_every_script_checks_its_length_against_the_checkpoint(script, tiny_checkpoint):
    calls = _calls_in_main(script)
    assert ("common_flags", ENCODER_SCRIPTS[script]) in calls
    assert not any(name in ("load_encoder_and_vocab", "load_encoder") for module, name in calls
                   if module != "common_flags"), "load the encoder through common_flags"
    # What that helper does for the script: refuse a length past the position table, naming the flag.
    with pytest.raises(ValueError, match=r"--max_seq_length=17 exceeds the checkpoint's max_position_embeddings=16"):
        common_flags.load_encoder(tiny_checkpoint, None, 17)
    encoder, vocab_file, lower_case = common_flags.load_encoder(tiny_checkpoint, None, 16, gradient_checkpointing=True)
    assert encoder.config.max_position_embeddings == 16 and encoder.gradient_checkpointing
    assert vocab_file.endswith("vocab.txt")
    assert lower_case is True  # Its vocabulary has no capitalised word: uncased.


def test_library_argument_names_become_flags():
    error = ValueError("name='tpu' needs `tpu`; seq_length=600 and max_seq_length=600, --output_dir=x kept.")
    message = common_flags.with_flag_names(error, {"name": "distribution_strategy", "tpu": "tpu",
                                                   "seq_length": "max_seq_length"})
    assert message == ("--distribution_strategy='tpu' needs --tpu; --max_seq_length=600 and max_seq_length=600, "
                       "--output_dir=x kept.")
    with pytest.raises(ValueError, match=r"--distribution_strategy='tpu' needs --tpu \("):
        common_flags.make_strategy("tpu")
    with pytest.raises(ValueError, match=r"--mixed_precision='float8'; use float32, bfloat16 or float16"):
        common_flags.make_strategy(mixed_precision="float8")


SCRIPTS_WITH_FLAGS = sorted(path.stem for path in (REPO_ROOT / "examples").glob("*.py")
                            if "flags.DEFINE_" in path.read_text() and path.stem != "common_flags")
# Any value can be meant: a threshold on a score difference; a layer index (negative from the top), which
# probe_encoder.py checks against the encoder's depth once it is loaded.
UNBOUNDED = {"null_score_diff_threshold", "layer"}


def _flags_of_scripts(scripts, expression):
    """`{script: set of names}`: for each script's own and common flags `n`, the names for which `expression`
    (Python source over `n` and `FLAGS`) holds; each script is imported in turn in one fresh process."""
    script = (
        "import importlib, sys\n"
        "sys.argv = ['x']; sys.path.insert(0, 'examples')\n"
        "from absl import flags\n"
        "FLAGS = flags.FLAGS\n"
        f"for name in {list(scripts)!r}:\n"
        "    importlib.import_module(name)\n"
        "    own = [n for n in FLAGS if FLAGS.find_module_defining_flag(n) in (name, 'common_flags')]\n"
        f"    print(name, ' '.join(sorted(n for n in own if {expression})))\n"
        "    for flag in own:  # the next script defines its own\n"
        "        delattr(FLAGS, flag)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=REPO_ROOT, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    found = {line.split()[0]: set(line.split()[1:]) for line in result.stdout.splitlines() if line.strip()}
    assert set(found) == set(scripts)
    return found


def test_every_numeric_flag_of_every_script_checks_its_range():
    unchecked = _flags_of_scripts(
        SCRIPTS_WITH_FLAGS, "FLAGS[n].flag_type() in ('int', 'float') and not FLAGS[n].validators")
    assert {name: flags - UNBOUNDED for name, flags in unchecked.items() if flags - UNBOUNDED} == {}


def test_a_negative_learning_rate_is_refused_before_anything_runs(tmp_path):
    result = subprocess.run([sys.executable, "examples/run_classifier.py", "--learning_rate=-1",
                             f"--output_dir={tmp_path}"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "flag --learning_rate=-1: -1.0 is not a non-negative number" in result.stderr, result.stderr[-2000:]
    result = subprocess.run([sys.executable, "examples/run_classifier.py", "--num_train_epochs=0",
                             f"--output_dir={tmp_path}"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode != 0 and "--num_train_epochs must be greater than 0." in result.stderr


FINE_TUNING_SCRIPTS = ("run_classifier", "run_multiple_choice", "run_ner", "run_squad", "train_embeddings")


def test_every_fine_tuning_script_takes_the_shared_flags_with_the_shared_meaning():
    shared = _flags_of_scripts(FINE_TUNING_SCRIPTS, "FLAGS.find_module_defining_flag(n) == 'common_flags'")
    # Each script's shared flags are defined once, in common_flags (a script redefining one would fail to import),
    # and every script has the same set, the run flags among them.
    first = shared[FINE_TUNING_SCRIPTS[0]]
    assert set(common_flags.FINE_TUNING_RUN_FLAGS) <= first
    assert {name: flags ^ first for name, flags in shared.items() if flags != first} == {}


def test_lora_flags_are_checked_before_anything_runs(tmp_path):
    from keras_bert.models.lora import LORA_TARGETS

    assert common_flags.LORA_TARGETS == LORA_TARGETS  # written out there, to define flags without TensorFlow
    result = subprocess.run([sys.executable, "examples/run_classifier.py", "--lora_rank=4", "--lora_target=queries",
                             f"--output_dir={tmp_path}"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "--lora_target takes one or more of query, key, value, attention_output" in result.stderr
    result = subprocess.run([sys.executable, "examples/run_classifier.py", "--lora_rank=4", "--lora_alpha=0",
                             f"--output_dir={tmp_path}"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode != 0 and "--lora_alpha must be greater than 0." in result.stderr  # not alpha = rank
    result = subprocess.run([sys.executable, "examples/run_ner.py", "--lora_rank=4", "--feature_based",
                             "--train_file=x.txt", "--nodo_eval", f"--output_dir={tmp_path}"],
                            cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "--feature_based freezes the encoder that --lora_rank would adapt" in result.stderr, result.stderr[-2000:]
