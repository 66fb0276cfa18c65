"""Exports a classifier fine-tuned by run_classifier.py as a raw-text SavedModel.

    python examples/export_saved_model.py --model_dir=/tmp/keras_bert_classifier \
        --export_dir=/tmp/sst2_savedmodel
    saved_model_cli run --dir=/tmp/sst2_savedmodel --tag_set=serve \
        --signature_def=serving_default --input_exprs='text=["a gorgeous film"]'

--model_dir holds classifier.keras, vocab.txt and serving.json (label names,
casing, sequence length, single or pair), as run_classifier.py writes them.
"""

import json
import os
import sys

from absl import app, flags

flags.DEFINE_string("model_dir", "/tmp/keras_bert_classifier", "A run_classifier.py --output_dir.")
flags.DEFINE_string("export_dir", None, "New directory for the SavedModel.")
flags.mark_flags_as_required(["export_dir"])
FLAGS = flags.FLAGS


def main(argv):
    del argv
    import keras

    import keras_bert  # noqa: F401 (registers the classes in classifier.keras)
    from keras_bert.export import export_classifier
    from keras_bert.text import BertPreprocessor

    try:
        with open(os.path.join(FLAGS.model_dir, "serving.json")) as f:
            settings = json.load(f)
        classifier = keras.saving.load_model(os.path.join(FLAGS.model_dir, "classifier.keras"))
        preprocessor = BertPreprocessor(
            os.path.join(FLAGS.model_dir, "vocab.txt"), settings["max_seq_length"], lower_case=settings["lower_case"]
        )
        export_classifier(classifier, preprocessor, FLAGS.export_dir, settings["label_names"], pair=settings["pair"])
    except (ImportError, OSError, ValueError, KeyError) as e:
        sys.exit(f"export_saved_model.py: {e}")
    inputs = "text_a, text_b" if settings["pair"] else "text"
    print(f"Exported the {settings['task']} classifier to {FLAGS.export_dir}: serving_default({inputs}: "
          f"string[batch]) -> probabilities, label_id, label ({', '.join(settings['label_names'])}).")


if __name__ == "__main__":
    app.run(main)
