"""`export_classifier`: a SavedModel that takes raw strings and returns labels."""

import os

import tensorflow as tf


class _ClassifierServer(tf.Module):
    """Holds the preprocessor, the model and the label names for serving."""

    def __init__(self, model, preprocessor, label_names):
        super().__init__()
        self.model = model
        self.preprocessor = preprocessor
        self.label_names = tf.constant(list(label_names))

    def classify(self, segments):
        logits = self.model(self.preprocessor(segments), training=False)
        probabilities = tf.nn.softmax(tf.cast(logits, tf.float32), axis=-1)
        label_ids = tf.argmax(probabilities, axis=-1, output_type=tf.int32)
        return {
            "probabilities": probabilities,
            "label_id": label_ids,
            "label": tf.gather(self.label_names, label_ids),
        }


def export_classifier(classifier, preprocessor, export_dir, label_names, pair=False):
    """Saves a fine-tuned classifier as a SavedModel that takes raw text.

    Tokenization and packing run inside the graph, so the SavedModel loads
    with `tf.saved_model.load` in a process that imports only tensorflow and
    tensorflow_text, and serves from TF Serving or `saved_model_cli run`.

    Signature `serving_default`:
        inputs: `text` (string `[batch]`), or `text_a` and `text_b` for pairs.
        outputs: `probabilities` (float32 `[batch, classes]`), `label_id`
            (int32 `[batch]`), `label` (string `[batch]`, from `label_names`).

    Strings longer than the preprocessor's `seq_length` are truncated;
    empty strings classify the bare `[CLS] [SEP]` input; an empty batch
    returns empty outputs; invalid UTF-8 bytes are dropped.

    Args:
        classifier: a `BertClassifier` (or any model from the encoder inputs
            to logits).
        preprocessor: the `BertPreprocessor` it was trained with.
        export_dir: str. Created; must not hold a SavedModel already.
        label_names: the label strings in id order.
        pair: bool. Whether the task takes sentence pairs.

    Returns:
        `export_dir`.
    """
    export_dir = os.fspath(export_dir)
    if os.path.exists(os.path.join(export_dir, "saved_model.pb")):
        raise FileExistsError(f"{export_dir} already holds a SavedModel; choose a new directory.")
    if len(label_names) != classifier.output.shape[-1]:
        raise ValueError(
            f"{len(label_names)} label names for a classifier with {classifier.output.shape[-1]} outputs."
        )
    server = _ClassifierServer(classifier, preprocessor, label_names)
    text = tf.TensorSpec([None], tf.string)
    if pair:
        serve = tf.function(lambda text_a, text_b: server.classify((text_a, text_b)), input_signature=[text, text])
    else:
        serve = tf.function(lambda text: server.classify(text), input_signature=[text])
    server.serve = serve
    tf.saved_model.save(server, export_dir, signatures={"serving_default": serve.get_concrete_function()})
    return export_dir
