"""The performance suite runs end to end on tiny models and computes its ratios as documented."""

import json
import subprocess
import sys

from conftest import REPO_ROOT

sys.path.insert(0, str(REPO_ROOT / "benchmarks"))
from performance.harness import timed_rounds  # noqa: E402
from performance.reporting import chart_link, ratio_table  # noqa: E402


def test_ratios_divide_by_the_best_peer_of_the_same_case_and_precision():
    table = ratio_table({
        "forward, toy": {"keras_bert": 30.0, "peer a": 10.0, "peer b": 20.0, "keras_bert bf16": 36.0,
                         "peer a bf16": 24.0, "peer a bf16 weights": 30.0, "keras_bert bf16 frozen": 45.0},
        "peak memory (GiB, lower is better), toy": {"keras_bert": 2.0, "peer a": 4.0, "peer b": 5.0, "peer c": None},
    })
    assert "| keras_bert | 30.00 | 1.50x |" in table  # 30 / max(10, 20)
    assert "| peer a | 10.00 | 0.50x |" in table
    assert "| keras_bert bf16 | 36.00 | 1.20x |" in table  # against bf16 peers only (variants too)
    assert "| keras_bert bf16 frozen | 45.00 | 1.50x |" in table
    assert "| keras_bert | 2.00 | 2.00x |" in table  # min(4, 5) / 2
    assert "| peer c | failed (out of memory?) | |" in table


def test_quick_run_writes_tables_chart_json_and_the_docs_section(tmp_path):
    page = tmp_path / "performance.md"
    page.write_text("# x\n\nbefore\n<!-- performance:start -->\nold numbers\n<!-- performance:end -->\nafter\n")
    result = subprocess.run(
        [sys.executable, "benchmarks/run_performance.py", "--quick", "--cases=train_step,tokenize", "--repeats=1",
         f"--output_dir={tmp_path / 'out'}", "--update_docs", f"--docs_page={page}"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    results = json.loads((tmp_path / "out/results.json").read_text())["results"]
    train = results["train step (MLM), BERT-Tiny, seq 128, batch 8"]
    assert set(train) == {"keras_bert", "keras_bert XLA", "keras-hub", "keras-hub XLA", "transformers", "keras_bert bf16",
                          "keras-hub bf16", "transformers bf16"}
    assert all(value > 0 for figures in results.values() for value in figures.values())
    assert (tmp_path / "out/performance.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    text = page.read_text()
    assert "old numbers" not in text and text.startswith("# x\n\nbefore\n") and text.endswith("after\n")
    assert "| keras_bert (tf.data) |" in text
    assert "![performance](out/performance.png)" in text  # the chart, relative to the page
    assert "![performance](performance.png)" in (tmp_path / "out/results.md").read_text()


def test_the_docs_page_reaches_the_chart_through_the_docs_reports_link(monkeypatch):
    monkeypatch.chdir(REPO_ROOT)
    assert chart_link("docs/guides/performance.md", "reports/performance/performance.png") == (
        "../reports/performance/performance.png")
    assert (REPO_ROOT / "docs/guides" / chart_link("docs/guides/performance.md", "reports/performance/x.png")).parent.is_dir()


def test_unknown_case_is_a_usage_error():
    result = subprocess.run([sys.executable, "benchmarks/run_performance.py", "--cases=speed"],
                            cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode != 0 and "Unknown --cases ['speed']" in result.stderr


def test_timed_rounds_rotate_which_config_goes_first():
    calls = []
    configs = {name: (lambda name=name: calls.append(name)) for name in "abc"}
    medians = timed_rounds(configs, warmup=1, repeats=3)
    assert calls == list("abc") + list("abc") + list("bca") + list("cab")  # warm-up, then rotated passes
    assert set(medians) == set("abc") and all(seconds >= 0 for seconds in medians.values())
