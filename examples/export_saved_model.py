"""Exports a model fine-tuned by run_classifier.py, run_ner.py or run_squad.py as a raw-text SavedModel.

    python examples/export_saved_model.py --model_dir=/tmp/keras_bert_classifier \
        --export_dir=/tmp/sst2_savedmodel
    saved_model_cli run --dir=/tmp/sst2_savedmodel --tag_set=serve \
        --signature_def=serving_default --input_exprs='text=["a gorgeous film"]'

--model_dir is the script's --output_dir: the trained .keras model, vocab.txt and
serving.json (model file, task, casing, sequence length, label names, ...), as the
fine-tuning scripts write them. The signature follows the task: text -> label
probabilities (text_a, text_b for pairs), text -> per-word tags with character
offsets (NER), question + context -> answer text, span and score (SQuAD).
--precision=bfloat16 exports a model fine-tuned in float32 to compute in
bfloat16 (its weights frozen as bfloat16 constants): faster on CPUs with AVX-512
BF16 or AMX, with predictions that may differ in the last digits. --precision=int8
gives the encoder's projections int8 weights and int8 matmuls (activations
quantized per batch): a quarter of the weight bytes, for x86 CPUs with
TensorFlow's oneDNN. --mixed_precision is the older name of --precision.
--tokenizer_ops=tf_serving tokenizes with tensorflow-text ops that every stock
TensorFlow Serving model server since 2.2 links (the default fast kernel: from 2.10).
--hub_export_dir also writes the fine-tuned encoder as a TF-Hub-style
preprocessor/encoder pair; --tflite_file (classifiers) a TFLite flatbuffer with
the same signature, tokenizer included (see keras_bert.export.export_tflite).
--onnx_file writes the model without its tokenizer as an ONNX file for ONNX
Runtime (float32; inputs input_word_ids, input_mask, input_type_ids as
BertPreprocessor gives them; see keras_bert.export.export_onnx); --onnx_int8
also writes its dynamically quantized int8 form beside it, NAME.int8.onnx;
--noonnx_skip_padding computes every position (for one sentence per call:
no padding to skip, so no index ops).
"""

import os
import sys

from absl import app, flags

import common_flags

flags.DEFINE_string("model_dir", "/tmp/keras_bert_classifier", "A fine-tuning script's --output_dir.")
flags.DEFINE_string("export_dir", None, "New directory for the task SavedModel.")
flags.DEFINE_string("tflite_file", None, "Classifiers: also write a TFLite file (tokenizer inside) here; with "
                    "--precision=int8, TFLite's dynamic-range int8.")
flags.DEFINE_string("onnx_file", None, "Also write the model, tokenizer outside, as a float32 ONNX file here "
                    "(needs the onnx extra: pip install -e '.[onnx]').")
flags.DEFINE_bool("onnx_int8", False, "With --onnx_file: also write the int8 (dynamically quantized) ONNX model "
                  "beside it, the .onnx suffix replaced by .int8.onnx.")
flags.DEFINE_bool("onnx_skip_padding", True, "With --onnx_file: the blocks compute only the real tokens' rows "
                  "(faster for batches of mixed lengths). --noonnx_skip_padding for one sentence per call, which has "
                  "no padding and pays for the index ops.")
flags.DEFINE_string("hub_export_dir", None, "Also write the fine-tuned encoder as a TF-Hub-style pair: "
                    "HUB_EXPORT_DIR/preprocess and HUB_EXPORT_DIR/encoder.")
flags.DEFINE_enum("precision", None, ["float32", "bfloat16", "float16", "int8"],
                  "Precision the task SavedModel computes in: bfloat16 (Keras' mixed_bfloat16; faster on CPUs with "
                  "AVX-512 BF16 or AMX), float32, or int8 (int8 weights and matmuls in the encoder's projections). "
                  "Default: the model's own, as it was fine-tuned.")
flags.DEFINE_string("mixed_precision", None, "The older name of --precision.")
flags.DEFINE_enum("tokenizer_ops", "fast", ["fast", "tf_serving"],
                  "Ops the in-graph tokenizer runs on (SavedModel and Hub-style preprocessor; the same ids): fast "
                  "(tensorflow-text's fast WordPiece kernel; stock TF Serving 2.10 and later) or tf_serving (only "
                  "tensorflow-text ops every stock TF Serving since 2.2 links).")
flags.mark_flags_as_required(["export_dir"])
FLAGS = flags.FLAGS

_SIGNATURES = {
    "ner": "serving_default(text: string[batch]) -> word, tag, tag_id, tag_probability, word_start, word_end, "
           "num_words",
    "squad": "serving_default(question, context: string[batch]) -> answer, answer_start, answer_end, score",
}


def _precision():
    if FLAGS.mixed_precision and FLAGS.precision and FLAGS.mixed_precision != FLAGS.precision:
        raise ValueError(f"--mixed_precision={FLAGS.mixed_precision} and --precision={FLAGS.precision} disagree; "
                         "pass --precision alone.")
    return FLAGS.precision or FLAGS.mixed_precision


def _onnx_int8_file():
    """`--onnx_file` with `.int8.onnx` for its `.onnx` suffix, or None without `--onnx_int8`."""
    if not FLAGS.onnx_int8:
        return None
    if not FLAGS.onnx_file:
        raise ValueError("--onnx_int8 quantizes the model that --onnx_file writes; pass --onnx_file too.")
    stem = FLAGS.onnx_file[:-len(".onnx")] if FLAGS.onnx_file.endswith(".onnx") else FLAGS.onnx_file
    return stem + ".int8.onnx"


def main(argv):
    del argv
    from keras_bert.export import export_hub_encoder, export_hub_preprocessor, export_saved_model, export_tflite
    from keras_bert.export import export_onnx
    from keras_bert.text import BertPreprocessor

    try:
        onnx_int8_file = _onnx_int8_file()
        model, settings = common_flags.load_trained_model(FLAGS.model_dir, "--model_dir")
        preprocessor = BertPreprocessor(
            os.path.join(FLAGS.model_dir, "vocab.txt"), settings["max_seq_length"], lower_case=settings["lower_case"],
            ops=FLAGS.tokenizer_ops,
        )
        options = {k: settings[k] for k in ("label_names", "pair", "max_query_length", "max_answer_length",
                                            "null_score_threshold", "doc_stride") if k in settings}
        export_saved_model(model, preprocessor, FLAGS.export_dir, precision=_precision(), **options)
        if FLAGS.hub_export_dir:
            export_hub_preprocessor(preprocessor, os.path.join(FLAGS.hub_export_dir, "preprocess"))
            export_hub_encoder(model.encoder, os.path.join(FLAGS.hub_export_dir, "encoder"))
        if FLAGS.tflite_file:
            export_tflite(model, preprocessor, FLAGS.tflite_file, label_names=settings.get("label_names"),
                          pair=settings.get("pair", False), precision="int8" if _precision() == "int8" else None)
        if FLAGS.onnx_file:
            export_onnx(model, FLAGS.onnx_file, int8_path=onnx_int8_file, skip_padding=FLAGS.onnx_skip_padding)
    except (ImportError, OSError, ValueError, KeyError, TypeError) as e:
        sys.exit(f"export_saved_model.py: {e}")
    task = settings["task"]
    if task in _SIGNATURES:
        signature = _SIGNATURES[task]
    else:
        inputs = "text_a, text_b" if settings.get("pair") else "text"
        labels = ", ".join(settings.get("label_names", []))
        signature = f"serving_default({inputs}: string[batch]) -> " + (
            f"probabilities, label_id, label ({labels})" if labels else "score")
    print(f"Exported the {task} model to {FLAGS.export_dir}: {signature}.")
    if FLAGS.tflite_file:
        print(f"TFLite: {FLAGS.tflite_file}, the same signature; load it with keras_bert.export.load_tflite, or "
              "any TFLite runtime with tensorflow_text's tflite_registrar ops registered.")
    if FLAGS.onnx_file:
        files = FLAGS.onnx_file + (f" and {onnx_int8_file} (int8)" if onnx_int8_file else "")
        files += "" if FLAGS.onnx_skip_padding else ", every position computed"
        print(f"ONNX: {files}; inputs input_word_ids, input_mask, input_type_ids (int32 [batch, seq], "
              f"from BertPreprocessor({FLAGS.model_dir}/vocab.txt)), outputs as keras_bert.export.export_onnx lists.")
    if FLAGS.hub_export_dir:
        print(f"Hub-style pair: {FLAGS.hub_export_dir}/preprocess (strings -> encoder inputs; tokenize, "
              f"bert_pack_inputs) and {FLAGS.hub_export_dir}/encoder (-> pooled_output, sequence_output, "
              "encoder_outputs).")


if __name__ == "__main__":
    app.run(main)
