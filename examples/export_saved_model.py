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
--mixed_precision=bfloat16 exports a model fine-tuned in float32 to compute in
bfloat16 (its weights frozen as bfloat16 constants): faster on CPUs with AVX-512
BF16 or AMX, with predictions that may differ in the last digits.
--hub_export_dir also writes the fine-tuned encoder as a TF-Hub-style
preprocessor/encoder pair; --tflite_file (classifiers) a TFLite flatbuffer with
the same signature, tokenizer included (see keras_bert.export.export_tflite).
"""

import os
import sys

from absl import app, flags

import common_flags

flags.DEFINE_string("model_dir", "/tmp/keras_bert_classifier", "A fine-tuning script's --output_dir.")
flags.DEFINE_string("export_dir", None, "New directory for the task SavedModel.")
flags.DEFINE_string("tflite_file", None, "Classifiers: also write a TFLite file (tokenizer inside) here.")
flags.DEFINE_string("hub_export_dir", None, "Also write the fine-tuned encoder as a TF-Hub-style pair: "
                    "HUB_EXPORT_DIR/preprocess and HUB_EXPORT_DIR/encoder.")
flags.DEFINE_string("mixed_precision", None, "Precision the task SavedModel computes in: bfloat16 (Keras' "
                    "mixed_bfloat16; faster on CPUs with AVX-512 BF16 or AMX) or float32. Default: the model's own, "
                    "as it was fine-tuned.")
flags.mark_flags_as_required(["export_dir"])
FLAGS = flags.FLAGS

_SIGNATURES = {
    "ner": "serving_default(text: string[batch]) -> word, tag, tag_id, tag_probability, word_start, word_end, "
           "num_words",
    "squad": "serving_default(question, context: string[batch]) -> answer, answer_start, answer_end, score",
}


def main(argv):
    del argv
    from keras_bert.export import export_hub_encoder, export_hub_preprocessor, export_saved_model, export_tflite
    from keras_bert.text import BertPreprocessor

    try:
        model, settings = common_flags.load_trained_model(FLAGS.model_dir, "--model_dir")
        preprocessor = BertPreprocessor(
            os.path.join(FLAGS.model_dir, "vocab.txt"), settings["max_seq_length"], lower_case=settings["lower_case"]
        )
        options = {k: settings[k] for k in ("label_names", "pair", "max_query_length", "max_answer_length",
                                            "null_score_threshold", "doc_stride") if k in settings}
        export_saved_model(model, preprocessor, FLAGS.export_dir, precision=FLAGS.mixed_precision, **options)
        if FLAGS.hub_export_dir:
            export_hub_preprocessor(preprocessor, os.path.join(FLAGS.hub_export_dir, "preprocess"))
            export_hub_encoder(model.encoder, os.path.join(FLAGS.hub_export_dir, "encoder"))
        if FLAGS.tflite_file:
            export_tflite(model, preprocessor, FLAGS.tflite_file, label_names=settings.get("label_names"),
                          pair=settings.get("pair", False))
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
    if FLAGS.hub_export_dir:
        print(f"Hub-style pair: {FLAGS.hub_export_dir}/preprocess (strings -> encoder inputs; tokenize, "
              f"bert_pack_inputs) and {FLAGS.hub_export_dir}/encoder (-> pooled_output, sequence_output, "
              "encoder_outputs).")


if __name__ == "__main__":
    app.run(main)
