import collections
import json
import subprocess
import sys

import pytest

from conftest import REPO_ROOT

TRAIN_SENTENCES, EVAL_SENTENCES = 200, 150


def _run(*flags):
    return subprocess.run([sys.executable, "examples/probe_encoder.py", *flags],
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=600)


def _pos_tags(path, sentences):
    """Column 2 of the first `sentences` sentences of a CoNLL-2003 file, read here independently of the script."""
    tags, current = [], []
    for line in path.read_text(encoding="utf-8").splitlines() + [""]:
        fields = line.split()
        if fields and fields[0] != "-DOCSTART-":
            current.append(fields[1])
        elif current:
            tags.append(current)
            current = []
    return [tag for sentence in tags[:sentences] for tag in sentence]


@pytest.fixture(scope="module")
def minilm_results(shared_data, minilm_path, tmp_path_factory):
    """eval_results.json of all-MiniLM-L6-v2 (pos) and of its architecture with --random_init (pos, token_identity)."""
    common = [f"--init_checkpoint={minilm_path}", f"--conll_train_file={shared_data}/conll2003/train.txt",
              f"--conll_eval_file={shared_data}/conll2003/valid.txt", f"--max_train_sentences={TRAIN_SENTENCES}",
              f"--max_eval_sentences={EVAL_SENTENCES}", "--epochs=20"]
    results = {}
    for name, flags in (("pretrained", ["--probes=pos"]), ("random", ["--random_init", "--probes=pos,token_identity"])):
        out = tmp_path_factory.mktemp(name)
        result = _run(*common, *flags, f"--output_dir={out}")
        assert result.returncode == 0, result.stderr[-3000:]
        assert "pos: accuracy" in result.stdout
        results[name] = json.loads((out / "eval_results.json").read_text())
    return results


def test_pretrained_encoder_beats_random_init_and_the_majority_tag_on_pos(minilm_results, shared_data):
    pretrained, random = minilm_results["pretrained"], minilm_results["random"]
    train_tags = _pos_tags(shared_data / "conll2003/train.txt", TRAIN_SENTENCES)
    eval_tags = _pos_tags(shared_data / "conll2003/valid.txt", EVAL_SENTENCES)
    # Every word is probed once, at its first piece; the baseline is the training part's most frequent tag.
    majority_tag = collections.Counter(train_tags).most_common(1)[0][0]
    majority = eval_tags.count(majority_tag) / len(eval_tags)
    for results in (pretrained, random):
        assert (results["pos_train_positions"], results["pos_test_positions"]) == (len(train_tags), len(eval_tags))
        assert results["pos_majority_accuracy"] == pytest.approx(majority)
        assert results["layer"] == 5  # -1: the last of MiniLM's 6 layers
    # Seen: 0.705 pretrained, 0.569 random init, 0.206 majority.
    assert pretrained["pos_accuracy"] > random["pos_accuracy"] + 0.08
    assert pretrained["pos_accuracy"] > majority + 0.4
    assert not pretrained["random_init"] and random["random_init"]


def test_random_encoder_keeps_token_identity(minilm_results):
    random = minilm_results["random"]
    # Chance is the most frequent token's share; a test token never seen in training can't be right (the ceiling).
    assert random["token_identity_majority_accuracy"] < 0.1
    assert random["token_identity_accuracy"] > 0.9 * random["token_identity_ceiling"]
    assert random["token_identity_ceiling"] > 0.4
    assert random["token_identity_test_positions"] > 1000


def test_bad_flags_are_named(tmp_path):
    result = _run("--probes=pos,ner")
    assert result.returncode != 0 and "--probes takes one or more of token_identity, pos, chunk" in result.stderr
    result = _run("--probes=chunk")
    assert result.returncode != 0 and "--probes=chunk needs --conll_train_file and --conll_eval_file" in result.stderr
    result = _run("--probes=pos", f"--conll_train_file={tmp_path}/nope.txt", f"--conll_eval_file={tmp_path}/x.txt")
    assert result.returncode != 0 and f"--conll_train_file={tmp_path}/nope.txt does not exist" in result.stderr
    assert "Traceback" not in result.stderr
