"""The preset registry: every entry loadable in principle, counts right, tables generated from it."""

import re
import subprocess
import sys
import urllib.parse

import pytest

from conftest import REPO_ROOT

from keras_bert import BertEncoder
from keras_bert.checkpoints.release_layouts import RELEASE_LAYOUTS
from keras_bert.presets import get_preset, list_presets, preset_table, update_preset_tables, vocab_lower_case
from keras_bert.presets.registry import GOOGLE, HUGGING_FACE, TABLE_BEGIN, TABLE_END


def test_every_entry_has_a_url_a_layout_the_loader_reads_and_a_casing():
    assert len(list_presets()) >= 43
    for preset in list_presets():
        assert isinstance(preset.lower_case, bool), preset.name
        if preset.layout == GOOGLE:
            url = urllib.parse.urlsplit(preset.source)
            assert url.scheme == "https" and url.netloc == "storage.googleapis.com", preset.name
            assert re.fullmatch(r"/bert_models/20\d\d_\d\d_\d\d/[\w-]+\.zip", url.path), preset.name
        else:
            assert preset.layout == HUGGING_FACE, preset.name
            assert re.fullmatch(r"hf://[\w.-]+/[\w.-]+", preset.source), preset.name
        assert preset.license and preset.description.endswith("."), preset.name
        assert preset.hidden_size % preset.num_attention_heads == 0, preset.name
    # Both layouts are ones the loader reads.
    assert "Google's release layout" in RELEASE_LAYOUTS and "Hugging Face's" in RELEASE_LAYOUTS


def test_the_papers_and_the_issues_names_are_there():
    base, large = get_preset("bert_base_en_uncased"), get_preset("bert_large_en")
    assert (base.num_layers, base.hidden_size, base.num_attention_heads, base.lower_case) == (12, 768, 12, True)
    assert (large.num_layers, large.hidden_size, large.num_attention_heads, large.lower_case) == (24, 1024, 16, False)
    small = [p for p in list_presets() if "2020_02_20" in p.source]
    assert sorted((p.num_layers, p.hidden_size) for p in small) == [
        (layers, hidden) for layers in (2, 4, 6, 8, 10, 12) for hidden in (128, 256, 512, 768)]
    for name in ("bert-base-uncased", "google-bert/bert-base-multilingual-cased", "bert-base-chinese",
                 "all-MiniLM-L6-v2", "uncased_L-2_H-128_A-2", "google/bert_uncased_L-4_H-256_A-4",
                 "bert_large_wwm_en_uncased", "bert_base_multi", "bert_base_zh"):
        assert get_preset(name) is not None, name
    assert get_preset("dmis-lab/biobert-base-cased-v1.2").lower_case is False  # No tokenizer_config.json to say so.


@pytest.mark.parametrize("name", ["bert_tiny_en_uncased", "bert_base_multi", "sentence-transformers/all-MiniLM-L6-v2"])
def test_parameter_counts_are_the_encoders(name):
    preset = get_preset(name)
    encoder = BertEncoder(vocab_size=preset.vocab_size, hidden_size=preset.hidden_size,
                          num_layers=preset.num_layers, num_attention_heads=preset.num_attention_heads,
                          intermediate_size=preset.intermediate_size)
    assert preset.parameters == encoder.count_params()


def test_published_counts():
    # keras-hub's and Hugging Face's stated counts for the same checkpoints.
    assert get_preset("bert_base_en_uncased").parameters == 109_482_240
    assert get_preset("bert_large_en").parameters == 333_579_264
    assert get_preset("bert_small_en_uncased").parameters == 28_763_648


@pytest.mark.parametrize("path", ["docs/presets.md"])  # The README links to this page for the table.
def test_docs_tables_are_generated(path):
    text = (REPO_ROOT / path).read_text(encoding="utf-8")
    assert f"{TABLE_BEGIN}\n{preset_table()}{TABLE_END}" in text, "run python examples/list_presets.py --update=" + path


def test_update_rewrites_only_the_marked_section(tmp_path):
    page = tmp_path / "page.md"
    page.write_text(f"# Title\n{TABLE_BEGIN}\nstale\n{TABLE_END}\nafter\n")
    assert update_preset_tables(page) and not update_preset_tables(page)
    assert page.read_text() == f"# Title\n{TABLE_BEGIN}\n{preset_table()}{TABLE_END}\nafter\n"
    page.write_text("no markers")
    with pytest.raises(ValueError, match="no <!-- presets:begin --> ... <!-- presets:end --> section"):
        update_preset_tables(page)


def test_list_presets_script_prints_every_name():
    result = subprocess.run([sys.executable, "examples/list_presets.py"], cwd=REPO_ROOT, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    for preset in list_presets():
        assert preset.name in result.stdout and preset.source in result.stdout


def test_casing_from_the_vocabulary(shared_data, tmp_path):
    assert vocab_lower_case(shared_data / "vocab/bert-base-uncased-vocab.txt")[0] is True
    assert vocab_lower_case(shared_data / "vocab/bert-base-chinese-vocab.txt")[0] is True
    cased = tmp_path / "vocab.txt"
    cased.write_text("[PAD]\n[UNK]\nthe\nThe\n##s\n")
    lower_case, reason = vocab_lower_case(cased)
    assert lower_case is False and "'The' beside 'the'" in reason
