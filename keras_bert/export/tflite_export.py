"""`export_tflite`: a fine-tuned classifier, tokenizer included, as one TFLite flatbuffer.

TFLite runs tensorflow-text's FastBertTokenizer (its normalizer and
WordPiece kernels) as custom ops; a TFLite
runtime registers them with `tensorflow_text`'s `tflite_registrar` (in
Python, `load_tflite` does it). What TFLite cannot run is the library's own
text cleaning (`normalize_text`: regex, NFD and ICU lower-casing ops), so
the flatbuffer uses FastBertTokenizer's built-in normalizer instead. For
almost all text both give the same pieces; see `export_tflite`.
"""

import os

import tensorflow as tf
import tensorflow_text as tf_text

from keras_bert.export.freezing import freeze, model_to_freeze
from keras_bert.export.servers import ClassifierServer
from keras_bert.models import BertClassifier
from keras_bert.text.packing import pack_segments


def export_tflite(model, preprocessor, path, label_names=None, pair=False, precision=None):
    """Converts a fine-tuned `BertClassifier` and its tokenizer to one `.tflite` file.

    The flatbuffer has one signature, `serving_default`, with the outputs of
    `export_saved_model`'s classifier signature: `text` (or `text_a`,
    `text_b` with `pair=True`), string `[batch]` -> `probabilities` float32
    `[batch, classes]`, `label_id` int32 `[batch]` and `label` string
    `[batch]` (regression: `score` float32 `[batch]`). Weights are frozen
    into it (float32; int8 with `precision="int8"`).

    Tokenization differs from the library's in its normalizer: it uses
    FastBertTokenizer's own normalizer (lower-casing and accent stripping
    for uncased vocabularies), which also folds compatibility characters
    ("…" -> "...", "µ" -> "μ") where the original BERT, Hugging Face and
    `normalize_text` keep them; splits a word at a control character
    where `normalize_text` drops it ("a\\x00b": "a", "b" vs "ab"); gives a
    word with invalid UTF-8 or U+FFFD one `[UNK]` where the library drops
    those characters; and counts a word's length in bytes
    (`4 * max_chars_per_word`), not characters. How many real texts
    tokenize differently: reports/export.md.

    Args:
        model: a `BertClassifier`.
        preprocessor: the `BertPreprocessor` it was trained with.
        path: str. The `.tflite` file to write; must not exist.
        label_names: the label strings in id order (not for regression).
        pair: bool. Whether the classifier takes sentence pairs.
        precision: optional `"int8"`: TFLite's dynamic-range quantization
            (int8 weights; its kernels quantize activations per batch row).

    Returns:
        `path`.

    Example:
    >>> import tempfile
    >>> import numpy as np
    >>> from keras_bert import BertEncoder
    >>> from keras_bert.text import BertPreprocessor
    >>> vocab = tempfile.mktemp()
    >>> _ = open(vocab, "w").write("\\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "good", "bad"]))
    >>> encoder = BertEncoder(vocab_size=7, hidden_size=8, num_layers=1,
    ...                       num_attention_heads=2, intermediate_size=12)
    >>> path = export_tflite(BertClassifier(encoder, num_classes=2), BertPreprocessor(vocab, 8),
    ...                      tempfile.mkdtemp() + "/model.tflite", label_names=["neg", "pos"])
    >>> classify = load_tflite(path).get_signature_runner()
    >>> classify(text=np.array([b"good", b"bad"]))["probabilities"].shape
    (2, 2)
    """
    path = os.fspath(path)
    if not isinstance(model, BertClassifier):
        raise TypeError(f"export_tflite takes a BertClassifier; got {type(model).__name__}. "
                        "Taggers and span labelers export with export_saved_model.")
    if os.path.exists(path):
        raise FileExistsError(f"{path} exists; choose a new file name.")
    if precision not in (None, "float32", "int8"):
        raise ValueError(f"precision={precision!r}; export_tflite writes float32 (None) or int8.")
    tokenizer = preprocessor.tokenizer
    wordpiece = tf_text.FastBertTokenizer(
        vocab=tokenizer.vocab,
        token_out_type=tf.int32,
        max_bytes_per_word=4 * tokenizer.max_chars_per_word,
        lower_case_nfd_strip_accents=tokenizer.lower_case,
    )
    cls_id, sep_id = tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]")

    def preprocess(segments):
        segments = segments if isinstance(segments, tuple) else (segments,)
        return pack_segments([wordpiece.tokenize(s) for s in segments], preprocessor.seq_length, cls_id, sep_id)

    # The fixed length: cut to the batch's longest, the encoder's slices become dynamic, which TFLite's
    # built-in StridedSlice does not take.
    # Every row computed: with the padding-skipping index ops, TFLite's interpreter gave wrong probabilities on the
    # call after an empty batch (tests/export/tflite_export_test.py).
    serve = ClassifierServer(model_to_freeze(model, skip_padding=False), preprocess, label_names,
                             trim=False).serving_function(pair)
    converter = tf.lite.TFLiteConverter.from_concrete_functions([freeze(serve).get_concrete_function()], tf.Module())
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    converter.allow_custom_ops = True  # tensorflow-text's kernels, registered at load time
    if precision == "int8":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]  # no representative data: dynamic range
    flatbuffer = converter.convert()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "wb") as f:
        f.write(flatbuffer)
    return path


def load_tflite(path):
    """A TFLite interpreter for `path` with tensorflow-text's custom ops registered.

    Call `.get_signature_runner()` on it, then the runner with numpy arrays
    (`text=np.array([b"..."])`, bytes `[batch]`); see `export_tflite`.

    Args:
        path: str. A `.tflite` file written by `export_tflite`.

    Returns:
        A `tf.lite.Interpreter` (`InterpreterWithCustomOps`).

    Raises:
        FileNotFoundError: there is no file at `path`.

    Example (`export_tflite`'s example loads a real model and runs it):
    >>> import tempfile
    >>> load_tflite(tempfile.mkdtemp() + "/missing.tflite")
    Traceback (most recent call last):
    ...
    FileNotFoundError: No TFLite file at .../missing.tflite.
    """
    from tensorflow.lite.python.interpreter import InterpreterWithCustomOps

    if not os.path.isfile(path):
        raise FileNotFoundError(f"No TFLite file at {path}.")
    return InterpreterWithCustomOps(
        model_path=os.fspath(path), custom_op_registerers=tf_text.tflite_registrar.SELECT_TFTEXT_OPS
    )
