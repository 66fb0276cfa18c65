"""The serving case: raw SST-2 sentences in, labels out, for every form we export and every form peers deploy.

One classifier (all-MiniLM-L6-v2 with a seeded 2-class head) served as:
ours, our SavedModels (float32, bfloat16, int8), our TFLite files (float32,
int8) and our ONNX files on ONNX Runtime (float32, int8); the peers,
transformers on torch (float32, bfloat16 weights, `quantize_dynamic` int8)
and transformers exported to ONNX on ONNX Runtime with its dynamic int8
quantization. Every configuration starts from strings: ours tokenize in
their graph (the ONNX files after our `BertPreprocessor`), the peers with
their fast tokenizer, inside the timed region, padding each batch to its
longest sentence (TFLite keeps its fixed length). Our ONNX int8 file comes
twice: as exported by default (skipping padding) and with
`skip_padding=False`, the export guide's form for batch-1 serving.

Each form is served by a process of its own, as a deployment runs one
model per server: this process exports the files, then starts one worker
per form, which loads its form, warms it up and waits. Rounds are
interleaved as in the other cases, one worker at a time, the others
blocked on their pipes. Served side by side in one process, the forms
disturbed each other: our bfloat16 SavedModel's first pass over the
batches after another form had run was about a quarter slower than its
second (reports/serving.md).
"""

import multiprocessing
import os
import statistics
import tempfile
import time

SEQ_LENGTH = 128


def _dev_sentences(sst2_dev_file):
    from keras_bert.data import read_glue_tsv

    return list(read_glue_tsv("sst2", sst2_dev_file).text_a)


def _seeded_classifier(encoder):
    import numpy as np

    from keras_bert import BertClassifier

    classifier = BertClassifier(encoder, num_classes=2)
    head = classifier.get_layer("logits")
    head.kernel.assign(np.random.default_rng(0).normal(0, 0.5, head.kernel.shape).astype("float32"))
    return classifier


def _export_ours(classifier, vocab_file, directory):
    """`{name: spec}` of our exported forms (a spec says what `_load` serves)."""
    from keras_bert.export import export_saved_model, export_tflite
    from keras_bert.text import BertPreprocessor

    preprocessor = BertPreprocessor(vocab_file, SEQ_LENGTH)
    forms = {}
    for name, precision in (("fp32", "float32"), ("bf16", "bfloat16"), ("int8", "int8")):
        path = export_saved_model(classifier, preprocessor, os.path.join(directory, name), precision=precision,
                                  label_names=["negative", "positive"])
        forms[f"keras_bert SavedModel {name}"] = {"kind": "saved_model", "path": path}
    for name, precision in (("fp32", None), ("int8", "int8")):
        path = export_tflite(classifier, preprocessor, os.path.join(directory, f"{name}.tflite"),
                             label_names=["negative", "positive"], precision=precision)
        forms[f"keras_bert TFLite {name}"] = {"kind": "tflite", "path": path}
    try:
        from keras_bert.export import export_onnx
    except ImportError:
        return forms
    paths = {"fp32": os.path.join(directory, "fp32.onnx"), "int8": os.path.join(directory, "int8.onnx"),
             "int8, every position": os.path.join(directory, "int8_every_position.onnx")}
    export_onnx(classifier, paths["fp32"], int8_path=paths["int8"])
    # The form the export guide gives for batch-1 serving: no padding to skip, so no index ops.
    export_onnx(classifier, os.path.join(directory, "fp32_every_position.onnx"),
                int8_path=paths["int8, every position"], skip_padding=False)
    for name, path in paths.items():
        forms[f"keras_bert ONNX Runtime {name}"] = {"kind": "onnx", "path": path, "vocab_file": vocab_file}
    return forms


def _export_peers(checkpoint, classifier, directory):
    """`{name: spec}` of transformers' forms, with our head's weights (saved beside the ONNX files)."""
    import numpy as np
    import torch
    import transformers
    from onnxruntime.quantization import QuantType, quantize_dynamic

    head = classifier.get_layer("logits")
    head_file = os.path.join(directory, "head.npz")
    np.savez(head_file, kernel=np.asarray(head.kernel), bias=np.asarray(head.bias))
    forms = {f"transformers {name}": {"kind": "torch", "checkpoint": checkpoint, "head": head_file, "precision": name}
             for name in ("fp32", "bf16", "int8 (quantize_dynamic)")}

    # transformers -> ONNX (torch's exporter, as optimum's does it) -> ONNX Runtime's dynamic int8.
    tokenizer = transformers.BertTokenizerFast.from_pretrained(checkpoint)
    model = _transformers_classifier(checkpoint, head_file)
    float_path, int8_path = os.path.join(directory, "hf.onnx"), os.path.join(directory, "hf_int8.onnx")
    example = tokenizer(["a gorgeous film"], return_tensors="pt")
    names = ["input_ids", "attention_mask", "token_type_ids"]
    axes = {name: {0: "batch", 1: "sequence"} for name in names}
    torch.onnx.export(model, tuple(example[n] for n in names), float_path, input_names=names,
                      output_names=["logits"], dynamic_axes={**axes, "logits": {0: "batch"}}, opset_version=17,
                      dynamo=False)
    quantize_dynamic(float_path, int8_path, weight_type=QuantType.QInt8)
    forms["transformers ONNX Runtime int8"] = {"kind": "hf_onnx", "checkpoint": checkpoint, "path": int8_path}
    return forms


def _transformers_classifier(checkpoint, head_file):
    """transformers' `BertForSequenceClassification` of `checkpoint`, with the head saved by `_export_peers`."""
    import numpy as np
    import torch
    import transformers

    model = transformers.BertForSequenceClassification.from_pretrained(checkpoint, num_labels=2).eval()
    head = np.load(head_file)
    with torch.no_grad():
        model.classifier.weight.copy_(torch.tensor(head["kernel"].T))
        model.classifier.bias.copy_(torch.tensor(head["bias"]))
    return model


def _load(spec):
    """`classify(list of str) -> label ids` for one form, as its server would run it."""
    import numpy as np

    if spec["kind"] in ("saved_model", "tflite", "onnx"):
        import tensorflow as tf
        import tensorflow_text  # noqa: F401 (registers the tokenizer ops the SavedModels use)
    if spec["kind"] == "saved_model":
        serve = tf.saved_model.load(spec["path"]).signatures["serving_default"]
        return lambda texts: serve(text=tf.constant(texts))["label_id"].numpy()
    if spec["kind"] == "tflite":
        from keras_bert.export import load_tflite

        runner = load_tflite(spec["path"]).get_signature_runner()
        return lambda texts: runner(text=np.array([t.encode() for t in texts]))["label_id"]
    if spec["kind"] == "onnx":
        import onnxruntime

        from keras_bert.data.classification_dataset import trim_to_longest
        from keras_bert.text import BertPreprocessor

        preprocessor = BertPreprocessor(spec["vocab_file"], SEQ_LENGTH)
        # In-graph, as the SavedModel does; called as a concrete function, which skips the tf.function's
        # argument matching (about 0.2 ms of a single sentence's 0.45 ms).
        tokenize = tf.function(lambda texts: trim_to_longest(preprocessor(texts))).get_concrete_function(
            tf.TensorSpec([None], tf.string))
        session = onnxruntime.InferenceSession(spec["path"], providers=["CPUExecutionProvider"])

        def classify_onnx(texts):
            inputs = {k: v.numpy() for k, v in tokenize(tf.constant(texts)).items()}
            return session.run(["logits"], inputs)[0].argmax(-1)

        return classify_onnx

    import transformers

    tokenizer = transformers.BertTokenizerFast.from_pretrained(spec["checkpoint"])
    if spec["kind"] == "hf_onnx":
        import onnxruntime

        session = onnxruntime.InferenceSession(spec["path"], providers=["CPUExecutionProvider"])
        names = ["input_ids", "attention_mask", "token_type_ids"]

        def classify_hf_onnx(texts):
            batch = tokenizer(texts, padding=True, truncation=True, max_length=SEQ_LENGTH, return_tensors="np")
            return session.run(None, {n: batch[n].astype("int64") for n in names})[0].argmax(-1)

        return classify_hf_onnx

    import torch

    model = _transformers_classifier(spec["checkpoint"], spec["head"])
    if spec["precision"] == "bf16":
        model = model.to(torch.bfloat16)
    elif spec["precision"].startswith("int8"):
        model = torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)

    def classify_torch(texts):
        batch = tokenizer(texts, padding=True, truncation=True, max_length=SEQ_LENGTH, return_tensors="pt")
        with torch.inference_mode():
            return model(**batch).logits.float().argmax(-1).numpy()

    return classify_torch


def _serve(spec, batches, singles, warmup, connection):
    """A worker: loads one form, sends its labels on `batches`, then times a round per message until `None`."""
    import traceback

    import numpy as np

    try:
        classify = _load(spec)
        for _ in range(warmup):
            for chunk in batches[:2] + singles[:5]:
                classify(chunk)
        connection.send(np.concatenate([classify(chunk) for chunk in batches]))
    except Exception:
        connection.send(traceback.format_exc())
        raise
    while connection.recv() is not None:
        start = time.perf_counter()
        for chunk in batches:
            classify(chunk)
        throughput = sum(len(chunk) for chunk in batches) / (time.perf_counter() - start)
        latencies = []
        for chunk in singles:
            start = time.perf_counter()
            classify(chunk)
            latencies.append(1000 * (time.perf_counter() - start))
        connection.send((throughput, latencies))



def _serve_rounds(forms, texts, warmup, repeats, batch, sentences, latency_sentences):
    """`(throughput, latencies, agreement)`: each form served by its own worker, in interleaved rounds."""
    batches = [texts[i:i + batch] for i in range(0, sentences, batch)]
    singles = [[text] for text in texts[:latency_sentences]]
    # Fresh interpreters (not forks of this one, which holds TensorFlow's and torch's thread pools).
    context = multiprocessing.get_context("spawn")
    workers = {}
    for name, spec in forms.items():
        ours, theirs = context.Pipe()
        process = context.Process(target=_serve, args=(spec, batches, singles, warmup, theirs), daemon=True)
        process.start()
        workers[name] = (process, ours)
    labels = {}
    for name, (process, connection) in workers.items():
        labels[name] = connection.recv()  # the worker has loaded and warmed up its form
        if isinstance(labels[name], str):
            raise RuntimeError(f"The worker serving {name} failed:\n{labels[name]}")
        print(f"  {name}: loaded", flush=True)
    agreement = {name: float((value == labels["keras_bert SavedModel fp32"]).mean()) for name, value in labels.items()}
    print("Label agreement with our float32 SavedModel on", sentences, "dev sentences:",
          ", ".join(f"{name} {value:.3f}" for name, value in agreement.items()), flush=True)

    throughput, latencies = {name: [] for name in forms}, {name: [] for name in forms}
    names = list(forms)
    for round_index in range(repeats):
        shift = round_index % len(names)
        for name in names[shift:] + names[:shift]:  # interleaved, each round starting one later
            connection = workers[name][1]
            connection.send("round")
            round_throughput, round_latencies = connection.recv()
            throughput[name].append(round_throughput)
            latencies[name].extend(round_latencies)
    for process, connection in workers.values():
        connection.send(None)
        process.join()
    return throughput, latencies, agreement


def serving_case(sst2_dev_file, warmup, repeats, batch=32, sentences=512, latency_sentences=200):
    """`{title: {configuration: value}}`: batch-32 throughput and batch-1 p50/p99 latency, per served form."""
    from keras_bert.checkpoints import default_checkpoint_path, load_encoder_and_vocab

    texts = _dev_sentences(sst2_dev_file)
    encoder, vocab_file = load_encoder_and_vocab()
    classifier = _seeded_classifier(encoder)
    # The exported files (about 750 MB) are removed when the workers are done with them.
    with tempfile.TemporaryDirectory(prefix="serving_case_") as directory:
        forms = {**_export_ours(classifier, vocab_file, directory),
                 **_export_peers(default_checkpoint_path(), classifier, directory)}
        throughput, latencies, agreement = _serve_rounds(forms, texts, warmup, repeats, batch, sentences,
                                                         latency_sentences)

    def percentile(values, q):
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    title = "serving SST-2 dev sentences, raw text in"
    return {
        f"{title}, batch {batch}": {name: statistics.median(v) for name, v in throughput.items()},
        f"{title}, batch 1, p50 latency in ms (lower is better)": {
            name: statistics.median(v) for name, v in latencies.items()},
        f"{title}, batch 1, p99 latency in ms (lower is better)": {
            name: percentile(v, 0.99) for name, v in latencies.items()},
        "serving: label agreement with keras_bert SavedModel fp32": agreement,
    }
