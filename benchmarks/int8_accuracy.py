"""Does the int8 export hold accuracy? Dev scores of float32 and int8 exports of the same fine-tuned models.

    python benchmarks/int8_accuracy.py --sst2_dir=/tmp/int8_acc/sst2 --mrpc_dir=/tmp/int8_acc/mrpc \
        --conll_dir=/tmp/int8_acc/conll --work_dir=/tmp/int8_acc/exports --output_file=/tmp/int8_acc/int8_accuracy.md

Each --*_dir is a fine-tuning script's --output_dir (the `.keras` model, vocab.txt and
serving.json), as the README's default commands write them:

    python examples/run_classifier.py --output_dir=/tmp/int8_acc/sst2
    python examples/run_classifier.py --task=mrpc --data_dir=../shared/data/glue/mrpc --output_dir=/tmp/int8_acc/mrpc
    python examples/run_ner.py --train_file=../shared/data/conll2003/train.txt \
        --eval_file=../shared/data/conll2003/valid.txt --output_dir=/tmp/int8_acc/conll

Each model is exported as examples/export_saved_model.py exports it (the options it reads from
serving.json) with `export_saved_model(..., precision="float32")` and `precision="int8"`, and,
for the classifiers, `export_tflite(..., precision="int8")` (and a float32 TFLite file, which
separates TFLite's own tokenizer normalizer from quantization). The dev set is then served
through each export as a client would, raw strings in: the SavedModels through
`keras_bert.training.file_prediction.SavedModelPredictor` (what predict.py --saved_model runs;
a tagger's served words are mapped back to the CoNLL words by character offsets), the TFLite
files through `keras_bert.export.load_tflite`. Scores use the library's metrics
(`glue_metrics` and `f1` for SST-2/MRPC, `conll_scores` for CoNLL-2003).

The int8 SavedModel quantizes each projection's input with one scale per call (the largest
magnitude over the batch's real tokens: the export skips padding), so its predictions depend on
what else is in the batch: it is scored at each --int8_batch_sizes (1 and 32 by default). TFLite's dynamic-range
kernels quantize per row. The float32 SavedModel should reproduce the script's own dev score
(eval_results.json); a tagger's SavedModel tags words past --max_seq_length pieces `O` where
run_ner.py reads such sentences in several windows, so it may differ there.

--diagnose adds, per block and projection, statistics of the float32 model's projection inputs
on the dev set: the largest magnitude per batch (the int8 scale), the 99.9th percentile and the
relative quantization error of per-batch (32), per-sentence (batch 1) and per-token scales.

Prints a Markdown table (and writes it with --output_file, the raw numbers with --json_file).
"""

import json
import os
import shutil
import sys
import time

from absl import app, flags

_REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_DATA = os.path.join(os.path.dirname(_REPO), "shared", "data")

flags.DEFINE_string("sst2_dir", None, "run_classifier.py's --output_dir of an SST-2 model (skipped if unset).")
flags.DEFINE_string("mrpc_dir", None, "run_classifier.py's --output_dir of an MRPC model (skipped if unset).")
flags.DEFINE_string("conll_dir", None, "run_ner.py's --output_dir of a CoNLL-2003 model (skipped if unset).")
flags.DEFINE_string("sst2_data_dir", os.path.join(_REPO, "examples", "data", "sst2"),
                    "Folder with SST-2's dev.tsv (run_classifier.py's default: the bundled slice's, the full dev set).")
flags.DEFINE_string("mrpc_data_dir", os.path.join(_DATA, "glue", "mrpc"), "Folder with MRPC's dev.tsv.")
flags.DEFINE_string("conll_eval_file", os.path.join(_DATA, "conll2003", "valid.txt"), "CoNLL-2003 dev file.")
flags.DEFINE_string("work_dir", "/tmp/keras_bert_int8_accuracy", "Where the exports go (each task's folder afresh).")
flags.DEFINE_integer("batch_size", 32, "Rows per call for the float32 SavedModel and the TFLite files.",
                     lower_bound=1)
flags.DEFINE_list("int8_batch_sizes", ["32", "1"], "Rows per call for the int8 SavedModel, one score each.")
flags.DEFINE_bool("tflite", True, "Classifiers: also score int8 (and float32) TFLite files.")
flags.DEFINE_bool("float32_tflite", True, "With --tflite: the float32 TFLite file too.")
flags.DEFINE_float("floor", 1.0, "Largest allowed drop of an int8 export's headline score, in points.")
flags.DEFINE_bool("diagnose", False, "Also print per-projection statistics of the int8 scales' inputs.")
flags.DEFINE_integer("diagnose_examples", 512, "--diagnose: dev examples (sentences, windows) to look at.",
                     lower_bound=1)
flags.DEFINE_string("output_file", None, "Also write the Markdown report here.")
flags.DEFINE_string("json_file", None, "Also write the raw results here.")
FLAGS = flags.FLAGS

_HEADLINE = {"sst2": "accuracy", "mrpc": "f1", "ner": "f1"}


def _load(model_dir):
    sys.path.insert(0, os.path.join(_REPO, "examples"))
    import common_flags

    from keras_bert.text import BertPreprocessor

    model, settings = common_flags.load_trained_model(model_dir, "--model_dir")
    preprocessor = BertPreprocessor(os.path.join(model_dir, "vocab.txt"), settings["max_seq_length"],
                                    lower_case=settings["lower_case"])
    return model, settings, preprocessor


def _export_options(settings):
    """What examples/export_saved_model.py passes export_saved_model from serving.json."""
    return {k: settings[k] for k in ("label_names", "pair", "max_query_length", "max_answer_length",
                                     "null_score_threshold", "doc_stride") if k in settings}


def _timed(function, *args, **kwargs):
    start = time.perf_counter()
    value = function(*args, **kwargs)
    return value, time.perf_counter() - start


# ---------------------------------------------------------------- classifiers


def _classifier_scores(task, examples, label_ids):
    """`{metric: value}`: GLUE's metrics for the task, with accuracy and F1 (label 1 positive) always."""
    from keras_bert.metrics import accuracy, f1, glue_metrics

    scores = dict(glue_metrics(task, examples.labels, label_ids))
    scores.setdefault("accuracy", accuracy(examples.labels, label_ids))
    scores.setdefault("f1", f1(examples.labels, label_ids))
    return scores


def _to_example_ids(probabilities, served_names, examples):
    """Served label ids -> the dev file's label ids (by name)."""
    import numpy as np

    position = {name: i for i, name in enumerate(examples.label_names)}
    return [position[served_names[i]] for i in np.argmax(probabilities, axis=-1)]


def _serve_saved_classifier(path, examples, batch_size):
    from keras_bert.training.file_prediction import SavedModelPredictor

    predictor = SavedModelPredictor(path, batch_size)
    probabilities = predictor.classify(examples)
    return _to_example_ids(probabilities, predictor.label_names, examples)


def _serve_tflite_classifier(path, examples, label_names, pair, batch_size):
    import numpy as np

    from keras_bert.export import load_tflite

    runner = load_tflite(path).get_signature_runner()
    outputs = []
    def strings(texts, start):
        return np.array([t.encode("utf-8") for t in texts[start:start + batch_size]], dtype=bytes)

    for start in range(0, len(examples), batch_size):
        if pair:
            served = runner(text_a=strings(examples.text_a, start), text_b=strings(examples.text_b, start))
        else:
            served = runner(text=strings(examples.text_a, start))
        outputs.append(np.asarray(served["probabilities"]))
    return _to_example_ids(np.concatenate(outputs), list(label_names), examples)


def _saved_model_runs(model, preprocessor, options, work_dir, serve, score, task):
    """Exports float32 and int8 SavedModels and scores each: `(runs, predictions, timings)`.

    `serve(path, batch_size)` gives the dev predictions through one export, `score(predictions)` its metrics;
    float32 is served at --batch_size, int8 at each --int8_batch_sizes.
    """
    from keras_bert.export import export_saved_model

    runs, predictions, timings = {}, {}, {}
    for precision in ("float32", "int8"):
        path = os.path.join(work_dir, f"saved_model_{precision}")
        _, timings[f"export SavedModel {precision}"] = _timed(export_saved_model, model, preprocessor, path,
                                                              precision=precision, **options)
        assert model.encoder.quantization is None, "the export quantized the model itself, not a copy"
        sizes = [FLAGS.batch_size] if precision == "float32" else [int(b) for b in FLAGS.int8_batch_sizes]
        for batch_size in sizes:
            name = f"SavedModel {precision}, batch {batch_size}"
            predictions[name], timings[f"score {name}"] = _timed(serve, path, batch_size)
            runs[name] = score(predictions[name])
            print(f"{task} {name}: {runs[name]}", flush=True)
    return runs, predictions, timings


def _run_classifier_task(task, model_dir, data_dir, work_dir):
    from keras_bert.data import read_glue_split
    from keras_bert.export import export_tflite

    model, settings, preprocessor = _load(model_dir)
    assert settings["task"] == task, f"{model_dir} holds a {settings['task']} model, not {task}"
    examples = next(iter(read_glue_split(task, data_dir, "dev").values()))
    options = _export_options(settings)
    label_names, pair = settings["label_names"], settings.get("pair", False)
    runs, predictions, timings = _saved_model_runs(
        model, preprocessor, options, work_dir, lambda path, batch_size: _serve_saved_classifier(
            path, examples, batch_size), lambda predicted: _classifier_scores(task, examples, predicted), task)
    if FLAGS.tflite:
        for precision in ("float32", "int8") if FLAGS.float32_tflite else ("int8",):
            path = os.path.join(work_dir, f"model_{precision}.tflite")
            _, timings[f"export TFLite {precision}"] = _timed(
                export_tflite, model, preprocessor, path, label_names=label_names, pair=pair,
                precision="int8" if precision == "int8" else None)
            name = f"TFLite {precision}"
            predictions[name], timings[f"score {name}"] = _timed(
                _serve_tflite_classifier, path, examples, label_names, pair, FLAGS.batch_size)
            runs[name] = _classifier_scores(task, examples, predictions[name])
            print(f"{task} {name}: {runs[name]}", flush=True)
    reference = predictions[f"SavedModel float32, batch {FLAGS.batch_size}"]
    changed = {name: sum(a != b for a, b in zip(p, reference)) / len(reference) for name, p in predictions.items()}
    diagnosis = None
    if FLAGS.diagnose:
        from keras_bert.data import classification_dataset

        subset = examples.first(min(FLAGS.diagnose_examples, len(examples)))
        batches = [inputs for inputs, _ in classification_dataset(subset, preprocessor, 32)]
        diagnosis = _projection_statistics(model, batches)
    return {"examples": len(examples), "runs": runs, "changed": changed, "timings": timings,
            "script": _script_scores(model_dir), "diagnosis": diagnosis}


# ---------------------------------------------------------------- tagger


def _run_tagger_task(model_dir, eval_file, work_dir):
    from keras_bert.data import open_tagging_file, read_conll
    from keras_bert.metrics import conll_scores
    from keras_bert.training.file_prediction import SavedModelPredictor

    model, settings, preprocessor = _load(model_dir)
    sentences = read_conll(eval_file)
    # predict.py's path for a CoNLL file: each sentence's words joined by spaces, mapped back by offsets.
    chunks = list(open_tagging_file(eval_file, "conll").chunks(len(sentences) + 1))
    assert len(chunks) == 1 and chunks[0].words == sentences.words, "the two CoNLL readers disagree"
    chunk = chunks[0]
    options = _export_options(settings)
    runs, predictions, timings = _saved_model_runs(
        model, preprocessor, options, work_dir, lambda path, batch_size: SavedModelPredictor(path, batch_size).tag(
            chunk), lambda predicted: conll_scores(sentences.tags, predicted), "ner")
    script_tags = _script_tags(model_dir, len(sentences))
    agreement = None
    if script_tags is not None:
        from keras_bert.data import token_classification_features

        # The sentences run_ner.py reads in several windows, which the SavedModel truncates instead.
        windows = token_classification_features(sentences, preprocessor.tokenizer, settings["label_names"],
                                                settings["max_seq_length"])["sentence_index"]
        counts = {}
        for index in windows:
            counts[int(index)] = counts.get(int(index), 0) + 1
        served = predictions[f"SavedModel float32, batch {FLAGS.batch_size}"]
        differ = [i for i, (a, b) in enumerate(zip(served, script_tags)) if a != b]
        agreement = {"differing_sentences": differ,
                     "multi_window_sentences": sorted(i for i, n in counts.items() if n > 1)}
    reference = [t for s in predictions[f"SavedModel float32, batch {FLAGS.batch_size}"] for t in s]
    changed = {name: sum(a != b for a, b in zip((t for s in p for t in s), reference)) / len(reference)
               for name, p in predictions.items()}
    diagnosis = None
    if FLAGS.diagnose:
        from keras_bert.data import ConllSentences, token_classification_dataset, token_classification_features

        n = min(FLAGS.diagnose_examples, len(sentences))
        subset = ConllSentences(sentences.words[:n], sentences.tags[:n], eval_file)
        features = token_classification_features(subset, preprocessor.tokenizer, settings["label_names"],
                                                 settings["max_seq_length"])
        batches = [inputs for inputs, _ in token_classification_dataset(features, 32)]
        diagnosis = _projection_statistics(model, batches)
    return {"examples": len(sentences), "words": len(reference), "runs": runs, "changed": changed,
            "timings": timings, "script": _script_scores(model_dir), "script_agreement": agreement,
            "diagnosis": diagnosis}


def _script_tags(model_dir, num_sentences):
    """run_ner.py's predicted tags per dev sentence (its eval_predictions.txt, `word gold predicted`), or None."""
    path = os.path.join(model_dir, "eval_predictions.txt")
    if not os.path.isfile(path):
        return None
    sentences = [[]]
    with open(path, encoding="utf-8") as f:
        for line in f:
            columns = line.split()
            if columns:
                sentences[-1].append(columns[-1])
            elif sentences[-1]:
                sentences.append([])
    sentences = [s for s in sentences if s]
    return sentences if len(sentences) == num_sentences else None


def _script_scores(model_dir):
    path = os.path.join(model_dir, "eval_results.json")
    if not os.path.isfile(path):
        return {}
    with open(path) as f:
        return json.load(f)


# ---------------------------------------------------------------- diagnosis


def _projection_statistics(model, batches):
    """Per block and projection input: what per-batch, per-sentence and per-token int8 scales make of it.

    Runs the float32 model eagerly on `batches` (encoder input dicts, trimmed
    to their longest row as the servers trim them), recording each
    projection's input rows with which rows are real tokens.
    """
    import numpy as np

    from keras_bert.models.lora import projection_layers

    names = ("query", "key", "value", "attention_output", "intermediate_dense", "output_dense")
    layers = projection_layers(model.encoder)
    records = {i: [] for i in range(len(layers))}
    current = {}

    def wrap(index, layer):
        original = layer.call

        def call(x, *args, **kwargs):
            if len(x.shape) == 2:
                records[index].append((np.asarray(x, np.float32), current["mask"], current["rows"]))
            return original(x, *args, **kwargs)

        object.__setattr__(layer, "call", call)
        return original

    originals = [wrap(i, layer) for i, layer in enumerate(layers)]
    try:
        for inputs in batches:
            mask = np.asarray(inputs["input_mask"]).astype(bool)
            current["mask"] = mask.reshape(-1)
            current["rows"] = np.repeat(np.arange(mask.shape[0]), mask.shape[1])  # sentence of each row
            model(inputs, training=False)
    finally:
        for layer, original in zip(layers, originals):
            object.__setattr__(layer, "call", original)

    def error(x, bound):
        """Relative L2 error of symmetric int8 (narrow range) with per-row `bound` (broadcast)."""
        step = np.maximum(bound, 1e-12) / 127.0
        q = np.clip(np.round(x / step), -127, 127) * step
        return float(np.linalg.norm(q - x) / np.linalg.norm(x))

    statistics = []
    for index, layer in enumerate(layers):
        block, name = index // len(names), names[index % len(names)]
        if name in ("key", "value"):  # the same input rows as the query's
            continue
        batch_max, real_max, p999, median, errors = [], [], [], [], {"batch": [], "sentence": [], "token": []}
        channel_hits = {}
        for x, mask, rows in records[index]:
            real = x[mask]
            magnitude = np.abs(x)
            batch_max.append(float(magnitude.max()))
            real_max.append(float(np.abs(real).max()))
            p999.append(float(np.percentile(np.abs(real), 99.9)))
            median.append(float(np.median(np.abs(real))))
            channel = int(np.unravel_index(np.argmax(magnitude), magnitude.shape)[1])
            channel_hits[channel] = channel_hits.get(channel, 0) + 1
            # Errors over the real tokens (what the task reads), by where the scale comes from.
            errors["batch"].append(error(real, magnitude.max()))
            sentence_max = np.zeros(rows.max() + 1)
            np.maximum.at(sentence_max, rows[mask], np.abs(real).max(axis=1))  # batch 1: no padding rows
            errors["sentence"].append(error(real, sentence_max[rows[mask]][:, None]))
            errors["token"].append(error(real, np.abs(real).max(axis=1, keepdims=True)))
        statistics.append({
            "block": block, "projection": "query/key/value" if name == "query" else name,
            "batch_max": float(np.mean(batch_max)), "real_max": float(np.mean(real_max)),
            "p99.9": float(np.mean(p999)), "median": float(np.mean(median)),
            "max_channels": sorted(channel_hits.items(), key=lambda kv: -kv[1])[:3],
            **{f"error_{k}": float(np.mean(v)) for k, v in errors.items()},
        })
    return statistics


# ---------------------------------------------------------------- report


def _points(value, reference):
    return f"{100 * (value - reference):+.2f}"


def _report(results):
    int8_sizes = [int(b) for b in FLAGS.int8_batch_sizes]
    f32 = f"SavedModel float32, batch {FLAGS.batch_size}"
    int8_names = [f"SavedModel int8, batch {b}" for b in int8_sizes]
    columns = ["script (Keras, eval_results.json)", f32, *int8_names]
    if FLAGS.tflite:
        columns += (["TFLite float32"] if FLAGS.float32_tflite else []) + ["TFLite int8"]
    compared = int8_names + (["TFLite int8"] if FLAGS.tflite else [])
    lines = ["| task | metric | " + " | ".join(columns) + " | " + " | ".join(
        f"{name.replace('SavedModel ', '')} - float32 (points)" for name in compared) + " |",
             "|" + "---|" * (2 + len(columns) + len(compared))]
    verdicts = []
    for task, result in results.items():
        runs = result["runs"]
        metrics = ("f1", "precision", "recall") if task == "ner" else (
            ("accuracy", "f1") if task == "sst2" else ("f1", "accuracy"))
        for metric in metrics:
            cells = []
            for column in columns:
                source = result["script"] if column.startswith("script") else runs.get(column)
                cells.append("n/a" if not source or metric not in source else f"{source[metric]:.4f}")
            diffs = [(_points(runs[name][metric], runs[f32][metric]) if name in runs else "n/a") for name in compared]
            label = {"sst2": "SST-2 dev", "mrpc": "MRPC dev", "ner": "CoNLL-2003 valid"}[task]
            bold = metric == _HEADLINE[task]
            lines.append(f"| {label} | {'**' + metric + '**' if bold else metric} | " + " | ".join(cells) + " | "
                         + " | ".join(diffs) + " |")
        headline = _HEADLINE[task]
        for name in compared:
            if name in runs:
                drop = 100 * (runs[f32][headline] - runs[name][headline])
                verdicts.append((task, f"{name} within {FLAGS.floor:g} point of float32 ({headline})", 0.0 - drop,
                                 drop <= FLAGS.floor + 1e-9))
        script = result["script"].get(headline)
        if script is not None:
            same = abs(script - runs[f32][headline]) < 5e-5
            verdicts.append((task, f"sanity: float32 SavedModel's {headline} = the script's",
                             100 * (runs[f32][headline] - script), same))
        agreement = result.get("script_agreement")
        if agreement is not None:
            differ, multi = agreement["differing_sentences"], agreement["multi_window_sentences"]
            explained = set(differ) <= set(multi)
            check = (f"sanity: float32 SavedModel's tags = run_ner.py's in all but {len(differ)} sentences "
                     f"({', '.join(map(str, differ)) or 'none'}); run_ner.py reads {len(multi)} sentence(s) "
                     f"({', '.join(map(str, multi)) or 'none'}) in several windows where the SavedModel truncates")
            verdicts.append((task, check, None, explained))
    lines += ["", f"Headline metrics in bold; floor: an int8 export at most {FLAGS.floor:g} point below float32.", ""]
    lines += ["| task | check | difference (points) | ok |", "|---|---|---|---|"]
    lines += [f"| {t} | {name} | {'' if drop is None else f'{drop:+.2f}'} | {'yes' if ok else '**NO**'} |"
              for t, name, drop, ok in verdicts]
    served = list(dict.fromkeys(name for result in results.values() for name in result["changed"]))
    lines += ["", "Predictions changed against the float32 SavedModel (classifiers: examples; NER: word tags):", "",
              "| task | " + " | ".join(served) + " |", "|---|" + "---|" * len(served)]
    for task, result in results.items():
        lines.append(f"| {task} | " + " | ".join(f"{result['changed'][n]:.2%}" if n in result["changed"] else "n/a"
                                                for n in served) + " |")
    lines += ["", "Seconds (export, and scoring the whole dev set):", "", "| task | step | seconds |", "|---|---|---|"]
    for task, result in results.items():
        lines += [f"| {task} | {step} | {seconds:.1f} |" for step, seconds in result["timings"].items()]
    for task, result in results.items():
        if result.get("diagnosis"):
            title = (f"{task}: projection inputs of the float32 model (means over batches of 32; errors are the "
                     "relative L2 error of int8 over real tokens, scale per batch / per sentence / per token):")
            header = ("| block | input of | batch max | real-token max | p99.9 | median | channels of the max | "
                      "error batch | error sentence | error token |")
            lines += ["", title, "", header, "|---|---|---|---|---|---|---|---|---|---|"]
            for s in result["diagnosis"]:
                channels = ", ".join(f"{c} ({n}x)" for c, n in s["max_channels"])
                lines.append(f"| {s['block']} | {s['projection']} | {s['batch_max']:.2f} | {s['real_max']:.2f} | "
                             f"{s['p99.9']:.2f} | {s['median']:.3f} | {channels} | {s['error_batch']:.4f} | "
                             f"{s['error_sentence']:.4f} | {s['error_token']:.4f} |")
    return "\n".join(lines)


def main(argv):
    del argv
    import tensorflow as tf

    from keras_bert.layers import cpu_kernels

    print(f"TensorFlow {tf.__version__}; oneDNN int8 kernels: {cpu_kernels.onednn_cpu()}; "
          f"AMX: {cpu_kernels.cpu_has_amx()}", flush=True)
    tasks = {"sst2": FLAGS.sst2_dir, "mrpc": FLAGS.mrpc_dir, "ner": FLAGS.conll_dir}
    if not any(tasks.values()):
        sys.exit("int8_accuracy.py: pass at least one of --sst2_dir, --mrpc_dir, --conll_dir.")
    results = {}
    for task, model_dir in tasks.items():
        if not model_dir:
            continue
        work_dir = os.path.join(FLAGS.work_dir, task)
        shutil.rmtree(work_dir, ignore_errors=True)
        os.makedirs(work_dir)
        start = time.perf_counter()
        if task == "ner":
            results[task] = _run_tagger_task(model_dir, FLAGS.conll_eval_file, work_dir)
        else:
            data_dir = FLAGS.sst2_data_dir if task == "sst2" else FLAGS.mrpc_data_dir
            results[task] = _run_classifier_task(task, model_dir, data_dir, work_dir)
        results[task]["seconds"] = time.perf_counter() - start
        print(f"{task}: done in {results[task]['seconds']:.0f} s", flush=True)
    report = _report(results)
    print(report)
    if FLAGS.output_file:
        with open(FLAGS.output_file, "w") as f:
            f.write(report + "\n")
    if FLAGS.json_file:
        with open(FLAGS.json_file, "w") as f:
            json.dump(results, f, indent=2)


if __name__ == "__main__":
    app.run(main)
