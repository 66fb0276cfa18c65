"""The suite's outputs: the ratio table, the chart, the machine line and the documentation's section."""

import os
import platform
import time

SECTION_START, SECTION_END = "<!-- performance:start -->", "<!-- performance:end -->"


def precision(configuration):
    """`"bf16"` for the bfloat16 configurations (named "... bf16" or "... bf16 <variant>"), else `"fp32"`."""
    return "bf16" if " bf16" in configuration else "fp32"


def ratio_table(results):
    """Markdown: each case's figures and their ratio to the best peer (not keras_bert) of the same
    case and precision (bf16 against bf16, fp32 against fp32 with or without XLA)."""
    lines = []
    for case, figures in results.items():
        if "agreement" in case:  # a fraction, not a speed: no ratios
            lines += [f"**{case}**", "", "| configuration | fraction of labels |", "|---|---|"]
            lines += [f"| {name} | {value:.3f} |" for name, value in figures.items()] + [""]
            continue
        lower_is_better = "lower is better" in case
        serving = case.startswith("serving")  # the fastest served form against the fastest peer form
        best_peer = {}
        for name, value in figures.items():
            if not name.startswith("keras_bert") and value:
                group = "any" if serving else precision(name)
                better = min if lower_is_better else max
                best_peer[group] = better(best_peer.get(group, value), value)
        if serving:
            unit = "ms" if lower_is_better else "sentences/s"
        else:
            unit = "GiB" if lower_is_better else ("lines/s" if "tokenize" in case else "sequences/s")
        against = "vs best peer, any precision" if serving else "vs best peer, same precision"
        lines += [f"**{case}**", "", f"| configuration | {unit} | {against} |", "|---|---|---|"]
        for name, value in figures.items():
            if value is None:
                lines.append(f"| {name} | failed (out of memory?) | |")
                continue
            peer = best_peer.get("any" if serving else precision(name))
            ratio = f"{(peer / value if lower_is_better else value / peer):.2f}x" if peer else ""
            lines.append(f"| {name} | {value:,.2f} | {ratio} |")
        lines.append("")
    return "\n".join(lines)


def plot(results, path):
    """One horizontal bar chart per case, ours highlighted."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(results), 1, figsize=(9, 2.2 + 0.45 * sum(len(f) for f in results.values())),
                             squeeze=False)
    for axis, (case, figures) in zip(axes[:, 0], results.items()):
        names = [n for n, v in figures.items() if v is not None]
        values = [figures[n] for n in names]
        colors = ["tab:orange" if n.startswith("keras_bert") else "tab:gray" for n in names]
        axis.barh(names, values, color=colors)
        axis.invert_yaxis()
        axis.set_title(case, fontsize=9)
        axis.tick_params(labelsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def machine_line():
    import tensorflow as tf

    flags_line = ""
    if os.path.exists("/proc/cpuinfo"):
        cpu_flags = next((line for line in open("/proc/cpuinfo") if line.startswith("flags")), "")
        flags_line = ", ".join(f for f in ("avx512f", "avx512_vnni", "avx512_bf16", "amx_bf16", "amx_int8") if f" {f}" in cpu_flags)
    model = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")),
                 platform.processor()) if os.path.exists("/proc/cpuinfo") else platform.processor()
    return (f"{model}, {os.cpu_count()} cores ({flags_line}), {platform.system()}; TensorFlow {tf.__version__}, "
            f"{time.strftime('%Y-%m-%d')}")


def chart_link(page, chart):
    """The chart's path relative to the Markdown `page` that shows it.

    A page under `docs/` reaches a chart under `reports/` through the
    `docs/reports` link (to `../reports`), the path the documentation site
    is built from.
    """
    page_dir = os.path.dirname(os.path.abspath(page))
    chart = os.path.abspath(chart)
    docs = os.path.join(os.getcwd(), "docs")
    reports = os.path.join(os.getcwd(), "reports")
    if page_dir.startswith(docs + os.sep) and chart.startswith(reports + os.sep):
        chart = os.path.join(docs, "reports", os.path.relpath(chart, reports))
    return os.path.relpath(chart, page_dir)


def update_section(markdown, page="docs/guides/performance.md"):
    """Replaces the text between the `performance:start` / `performance:end` markers of `page`."""
    text = open(page, encoding="utf-8").read()
    if SECTION_START not in text or SECTION_END not in text:
        raise ValueError(f"{page} has no {SECTION_START} ... {SECTION_END} section to replace.")
    head, rest = text.split(SECTION_START, 1)
    tail = rest.split(SECTION_END, 1)[1]
    with open(page, "w", encoding="utf-8") as f:
        f.write(f"{head}{SECTION_START}\n{markdown}\n{SECTION_END}{tail}")
