"""Performance suite: keras_bert against keras-hub, HF transformers (torch) and HF tokenizers.

    pip install -e ".[bench]"
    python benchmarks/run_performance.py --output_dir=reports/performance --update_docs

Every case builds ours and the peers in one process (the serving case: one
process per served form, as deployments run them) and times them interleaved
(round r of every configuration before round r+1 of any), after warm-up; each
figure is the median of --repeats rounds. Absolute speeds swing between runs on
a shared machine, so the tables give each configuration's ratio to the best
peer measured in the same run. Writes `results.md`, `results.json` and
`performance.png` to --output_dir; --update_docs replaces the section between
the `performance:start` / `performance:end` markers of --docs_page (the
documentation's Performance page) with the same tables.

Cases (--cases):
  forward     encoder forward, random weights, seq 128, batch 32 (BERT-Base, BERT-Small); in bfloat16
              also the inference forms: ours frozen (as exported SavedModels serve), keras-hub
              with bfloat16 variables, transformers with bfloat16 weights
  train_step  one masked-LM training step (ours: MLM + NSP), BERT-Base, seq 128, batch 8, AdamW
  finetune    fine-tuning steps on real SST-2 sentences (all-MiniLM-L6-v2, batch 32),
              padded to 128 vs cut to each batch's longest row
  tokenize    raw Wikipedia lines -> packed ids, seq 128
  memory      peak resident memory of BERT-Base training steps at seq 512, each configuration
              in its own process, with and without gradient checkpointing
  serving     raw SST-2 dev sentences in, labels out (all-MiniLM-L6-v2, a seeded head): batch-32
              throughput and batch-1 p50/p99 latency of our SavedModels (fp32, bf16, int8), TFLite
              files (fp32, int8) and ONNX files on ONNX Runtime (fp32, int8), against transformers
              on torch (fp32, bf16 weights, quantize_dynamic int8) and exported to ONNX Runtime int8;
              each form served by its own process; compared with the fastest peer form at any precision

tf-models-official is not among the peers: its releases pin another TensorFlow
(2.20) than ours (2.21), so it cannot share this environment.
"""

import json
import os
import time

from absl import app, flags

from performance.memory import memory_case, memory_child
from performance.reporting import chart_link, machine_line, plot, ratio_table, update_section
from performance.serving import serving_case
from performance.speed_cases import finetune_case, forward_case, tokenize_case, train_step_case

CASES = ["forward", "train_step", "finetune", "tokenize", "memory", "serving"]
flags.DEFINE_list("cases", CASES, "Cases to run.")
flags.DEFINE_integer("repeats", 5, "Timed rounds per configuration (the median is reported).")
flags.DEFINE_integer("warmup", 2, "Untimed rounds first (tracing, caches).")
flags.DEFINE_bool("quick", False, "Tiny models and little data: a smoke run of every code path in about a minute.")
flags.DEFINE_string("sst2_file", "../shared/data/glue/sst2/train.tsv", "SST-2 train.tsv for the finetune case.")
flags.DEFINE_string("sst2_dev_file", "../shared/data/glue/sst2/dev.tsv", "SST-2 dev.tsv for the serving case.")
flags.DEFINE_integer("serving_sentences", 512, "Dev sentences per serving round at batch 32.")
flags.DEFINE_integer("latency_sentences", 200, "Dev sentences per serving round at batch 1.")
flags.DEFINE_integer("finetune_sentences", 1024, "SST-2 sentences per finetune round.")
flags.DEFINE_string("wiki_files", "../shared/data/wiki/wiki_*", "Wikipedia text for the tokenize case.")
flags.DEFINE_integer("tokenize_lines", 100_000, "Lines per tokenize round.")
flags.DEFINE_integer("memory_batch", 8, "Batch of the memory case (seq 512).")
flags.DEFINE_string("output_dir", "reports/performance", "Where results.md, results.json, performance.png go.")
flags.DEFINE_bool("update_docs", False, "Replace the performance section of --docs_page with the results.")
flags.DEFINE_string("docs_page", "docs/guides/performance.md", "The Markdown page --update_docs rewrites.")
flags.DEFINE_string("memory_child", None, "Internal: run one memory configuration and print its peak.")
FLAGS = flags.FLAGS


def main(argv):
    del argv
    if FLAGS.memory_child:
        size, seq = ("BERT-Tiny", 128) if FLAGS.quick else ("BERT-Base", 512)
        print(json.dumps({"peak_gib": round(memory_child(FLAGS.memory_child, size, FLAGS.memory_batch, seq), 2)}))
        return
    if FLAGS.quick:
        FLAGS.repeats, FLAGS.warmup = min(FLAGS.repeats, 2), 1
        FLAGS.finetune_sentences, FLAGS.tokenize_lines = min(FLAGS.finetune_sentences, 64), min(FLAGS.tokenize_lines, 2000)
        FLAGS.memory_batch = min(FLAGS.memory_batch, 2)
        FLAGS.serving_sentences, FLAGS.latency_sentences = min(FLAGS.serving_sentences, 64), min(FLAGS.latency_sentences, 10)
    sizes = ["BERT-Tiny"] if FLAGS.quick else ["BERT-Base", "BERT-Small"]
    train_size = "BERT-Tiny" if FLAGS.quick else "BERT-Base"
    unknown = set(FLAGS.cases) - set(CASES)
    if unknown:
        raise app.UsageError(f"Unknown --cases {sorted(unknown)}; choose from {', '.join(CASES)}.")
    os.makedirs(FLAGS.output_dir, exist_ok=True)
    by_case = {}
    started = time.time()
    # The memory and serving cases first: their children (BERT-Base training at
    # seq 512; twelve served forms) run beside this process, which must not
    # yet hold the other cases' models (the kernel's OOM killer picks the
    # largest process: after the other cases, the serving case's ONNX export
    # was killed).
    for case in sorted(FLAGS.cases, key=lambda case: (case != "memory", case != "serving")):
        print(f"[{time.time() - started:6.0f} s] {case} ...", flush=True)
        if case == "forward":
            by_case[case] = forward_case(sizes, FLAGS.warmup, FLAGS.repeats, batch=8 if FLAGS.quick else 32)
        elif case == "train_step":
            by_case[case] = train_step_case(train_size, FLAGS.warmup, FLAGS.repeats)
        elif case == "finetune":
            by_case[case] = finetune_case(FLAGS.sst2_file, FLAGS.finetune_sentences, FLAGS.warmup, FLAGS.repeats)
        elif case == "serving":
            by_case[case] = serving_case(FLAGS.sst2_dev_file, FLAGS.warmup, FLAGS.repeats,
                                         sentences=FLAGS.serving_sentences, latency_sentences=FLAGS.latency_sentences)
        elif case == "tokenize":
            by_case[case] = tokenize_case(FLAGS.wiki_files, FLAGS.tokenize_lines, FLAGS.repeats)
        else:
            by_case[case] = memory_case(train_size, FLAGS.memory_batch, 128 if FLAGS.quick else 512, FLAGS.quick)
    results = {name: speeds for case in FLAGS.cases for name, speeds in by_case[case].items()}
    all_cases = FLAGS["cases"].default
    cases_flag = "" if list(FLAGS.cases) == list(all_cases) else f" --cases={','.join(FLAGS.cases)}"
    markdown = (f"Measured on {machine_line()}; `python benchmarks/run_performance.py{cases_flag} "
                f"--repeats={FLAGS.repeats}{' --quick' if FLAGS.quick else ''}` "
                f"({time.time() - started:.0f} s). Speeds are medians of {FLAGS.repeats} interleaved rounds after "
                f"warm-up, each pass starting one configuration later; \"vs best peer\" divides by the fastest "
                f"non-keras_bert configuration of the same case "
                f"and precision (bf16: Keras' mixed_bfloat16 policy, torch.autocast for transformers; in the forward "
                f"case also each library's bfloat16 inference form: ours frozen as an exported SavedModel serves "
                f"it, keras-hub with bfloat16 variables, transformers with bfloat16 weights; for memory: "
                f"the best peer's peak divided by ours; for serving: the fastest peer form at any precision).\n\n"
                f"![performance]({{chart}})\n\n{ratio_table(results)}")
    chart = os.path.join(FLAGS.output_dir, "performance.png")
    with open(os.path.join(FLAGS.output_dir, "results.md"), "w") as f:
        f.write(markdown.replace("{chart}", "performance.png"))
    with open(os.path.join(FLAGS.output_dir, "results.json"), "w") as f:
        json.dump({"machine": machine_line(), "repeats": FLAGS.repeats, "results": results}, f, indent=2)
    plot(results, chart)
    print(markdown.replace("{chart}", chart))
    if FLAGS.update_docs:
        update_section(markdown.replace("{chart}", chart_link(FLAGS.docs_page, chart)), FLAGS.docs_page)


if __name__ == "__main__":
    app.run(main)
