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
"""

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


def _ours(classifier, preprocessor, directory):
    """`{name: classify(list of str) -> label ids}` for each of our exported forms."""
    import numpy as np
    import tensorflow as tf

    from keras_bert.export import export_saved_model, export_tflite, load_tflite

    forms = {}
    for name, precision in (("fp32", "float32"), ("bf16", "bfloat16"), ("int8", "int8")):
        path = export_saved_model(classifier, preprocessor, os.path.join(directory, name), precision=precision,
                                  label_names=["negative", "positive"])
        serve = tf.saved_model.load(path).signatures["serving_default"]
        forms[f"keras_bert SavedModel {name}"] = lambda texts, serve=serve: serve(
            text=tf.constant(texts))["label_id"].numpy()
    for name, precision in (("fp32", None), ("int8", "int8")):
        path = export_tflite(classifier, preprocessor, os.path.join(directory, f"{name}.tflite"),
                             label_names=["negative", "positive"], precision=precision)
        runner = load_tflite(path).get_signature_runner()
        forms[f"keras_bert TFLite {name}"] = lambda texts, runner=runner: runner(
            text=np.array([t.encode() for t in texts]))["label_id"]
    try:
        from keras_bert.export import export_onnx
    except ImportError:
        return forms
    import onnxruntime

    from keras_bert.data.classification_dataset import trim_to_longest

    paths = {"fp32": os.path.join(directory, "fp32.onnx"), "int8": os.path.join(directory, "int8.onnx"),
             "int8, every position": os.path.join(directory, "int8_every_position.onnx")}
    export_onnx(classifier, paths["fp32"], int8_path=paths["int8"])
    # The form the export guide gives for batch-1 serving: no padding to skip, so no index ops.
    export_onnx(classifier, os.path.join(directory, "fp32_every_position.onnx"),
                int8_path=paths["int8, every position"], skip_padding=False)
    # In-graph, as the SavedModel does; called as a concrete function, which skips the tf.function's
    # argument matching (about 0.2 ms of a single sentence's 0.45 ms).
    tokenize = tf.function(lambda texts: trim_to_longest(preprocessor(texts))).get_concrete_function(
        tf.TensorSpec([None], tf.string))
    for name, path in paths.items():
        session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])

        def classify(texts, session=session):
            inputs = {k: v.numpy() for k, v in tokenize(tf.constant(texts)).items()}
            return session.run(["logits"], inputs)[0].argmax(-1)

        forms[f"keras_bert ONNX Runtime {name}"] = classify
    return forms


def _peers(checkpoint, classifier, directory):
    """`{name: classify(list of str) -> label ids}` for transformers' forms, with our head's weights."""
    import numpy as np
    import onnxruntime
    import torch
    import transformers
    from onnxruntime.quantization import QuantType, quantize_dynamic

    tokenizer = transformers.BertTokenizerFast.from_pretrained(checkpoint)
    model = transformers.BertForSequenceClassification.from_pretrained(checkpoint, num_labels=2).eval()
    head = classifier.get_layer("logits")
    with torch.no_grad():
        model.classifier.weight.copy_(torch.tensor(np.asarray(head.kernel).T))
        model.classifier.bias.copy_(torch.tensor(np.asarray(head.bias)))

    def torch_form(model):
        def classify(texts):
            batch = tokenizer(texts, padding=True, truncation=True, max_length=SEQ_LENGTH, return_tensors="pt")
            with torch.inference_mode():
                return model(**batch).logits.float().argmax(-1).numpy()
        return classify

    bfloat16 = transformers.BertForSequenceClassification.from_pretrained(checkpoint, num_labels=2).eval()
    bfloat16.load_state_dict(model.state_dict())
    int8 = torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
    forms = {"transformers fp32": torch_form(model), "transformers bf16": torch_form(bfloat16.to(torch.bfloat16)),
             "transformers int8 (quantize_dynamic)": torch_form(int8)}

    # transformers -> ONNX (torch's exporter, as optimum's does it) -> ONNX Runtime's dynamic int8.
    float_path, int8_path = os.path.join(directory, "hf.onnx"), os.path.join(directory, "hf_int8.onnx")
    example = tokenizer(["a gorgeous film"], return_tensors="pt")
    names = ["input_ids", "attention_mask", "token_type_ids"]
    axes = {name: {0: "batch", 1: "sequence"} for name in names}
    torch.onnx.export(model, tuple(example[n] for n in names), float_path, input_names=names,
                      output_names=["logits"], dynamic_axes={**axes, "logits": {0: "batch"}}, opset_version=17,
                      dynamo=False)
    quantize_dynamic(float_path, int8_path, weight_type=QuantType.QInt8)
    session = onnxruntime.InferenceSession(int8_path, providers=["CPUExecutionProvider"])

    def onnx_classify(texts):
        batch = tokenizer(texts, padding=True, truncation=True, max_length=SEQ_LENGTH, return_tensors="np")
        return session.run(None, {n: batch[n].astype("int64") for n in names})[0].argmax(-1)

    forms["transformers ONNX Runtime int8"] = onnx_classify
    return forms


def serving_case(sst2_dev_file, warmup, repeats, batch=32, sentences=512, latency_sentences=200):
    """`{title: {configuration: value}}`: batch-32 throughput and batch-1 p50/p99 latency, per served form."""
    from keras_bert.checkpoints import default_checkpoint_path, load_encoder_and_vocab
    from keras_bert.text import BertPreprocessor

    texts = _dev_sentences(sst2_dev_file)
    encoder, vocab_file = load_encoder_and_vocab()
    classifier = _seeded_classifier(encoder)
    preprocessor = BertPreprocessor(vocab_file, SEQ_LENGTH)
    directory = tempfile.mkdtemp(prefix="serving_case_")
    forms = {**_ours(classifier, preprocessor, directory),
             **_peers(default_checkpoint_path(), classifier, directory)}

    reference = forms["keras_bert SavedModel fp32"](texts[:sentences])
    agreement = {name: float((classify(texts[:sentences]) == reference).mean()) for name, classify in forms.items()}
    print("Label agreement with our float32 SavedModel on", sentences, "dev sentences:",
          ", ".join(f"{name} {value:.3f}" for name, value in agreement.items()), flush=True)

    batches = [texts[i:i + batch] for i in range(0, sentences, batch)]
    singles = [[text] for text in texts[:latency_sentences]]
    throughput, latencies = {name: [] for name in forms}, {name: [] for name in forms}
    for name, classify in forms.items():
        for _ in range(warmup):
            for chunk in batches[:2] + singles[:5]:
                classify(chunk)
    names = list(forms)
    for round_index in range(repeats):
        shift = round_index % len(names)
        for name in names[shift:] + names[:shift]:  # interleaved, each round starting one later
            classify = forms[name]
            start = time.perf_counter()
            for chunk in batches:
                classify(chunk)
            throughput[name].append(sentences / (time.perf_counter() - start))
            for chunk in singles:
                start = time.perf_counter()
                classify(chunk)
                latencies[name].append(1000 * (time.perf_counter() - start))

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
