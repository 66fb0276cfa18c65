"""`export_saved_model`: a fine-tuned model as a SavedModel that takes raw strings."""

import os

import tensorflow as tf

from keras_bert.export.freezing import freeze, model_to_freeze
from keras_bert.export.servers import (
    ClassifierServer,
    EmbedderServer,
    SpanServer,
    TaggerServer,
    check_label_names,
)
from keras_bert.models import (
    BertClassifier,
    BertFeatureTagger,
    BertSpanLabeler,
    BertTextEmbedder,
    BertTokenClassifier,
)
from keras_bert.text.tokenizer_ops import check_tokenizer_ops
from keras_bert.training.distribution import dtype_policy_name


def export_saved_model(model, preprocessor, export_dir, label_names=None, pair=False, max_query_length=64,
                       max_answer_length=30, null_score_threshold=None, doc_stride=128, precision=None,
                       tokenizer_ops=None):
    """Saves a fine-tuned model as a SavedModel whose `serving_default` takes raw text.

    Tokenization and packing run inside the graph, so the SavedModel loads
    with `tf.saved_model.load` in a process that imports only tensorflow and
    tensorflow_text, and serves from TF Serving or `saved_model_cli run`.
    Every input is a string tensor `[batch]`; invalid UTF-8 bytes are
    dropped, over-long text is truncated to `preprocessor.seq_length`
    pieces, and an empty batch gives empty outputs.

    `serving_default` by model type:
    - `BertClassifier`: `text` (or `text_a`, `text_b` with `pair=True`) ->
      `probabilities` float32 `[batch, classes]`, `label_id` int32
      `[batch]`, `label` string `[batch]`; for regression (`num_classes=1`)
      `score` float32 `[batch]`. An empty string is classified from the
      bare `[CLS] [SEP]`. A second signature, `label_names`, takes no input
      and gives the label strings in id order.
    - `BertTokenClassifier`, `BertFeatureTagger`: `text` -> one entry per
      word, padded to the batch's most words: `word`, `tag` (string, `""`
      padding), `tag_id`, `word_start`, `word_end` (character offsets,
      Python slice convention; `-1` padding), `tag_probability`, and
      `num_words` `[batch]`.
    - `BertSpanLabeler`: `question`, `context` -> `answer` string
      `[batch]`, `answer_start`/`answer_end` (character offsets in the
      context; `-1` with an empty answer), `score` (start + end logit).
      A long context is searched in the windows `squad_features` cuts
      (`text.windowing.pack_question_windows`, shared by both).
    - `BertTextEmbedder`: `text` -> `embedding` float32 `[batch, hidden]`
      (unit length if the embedder normalizes).

    A model with LoRA enabled is exported merged: the adapters are folded
    into the kernels, so it serves at the plain model's speed.

    Args:
        model: a `BertClassifier`, `BertTokenClassifier`, `BertFeatureTagger`,
            `BertSpanLabeler` or `BertTextEmbedder`.
        preprocessor: the `BertPreprocessor` it was trained with (its
            vocabulary, casing and `seq_length`).
        export_dir: str. Created; must not hold a SavedModel already.
        label_names: the label strings in id order (classifiers, taggers).
        pair: bool. Whether a classifier takes sentence pairs.
        max_query_length, max_answer_length, doc_stride: int. Span
            labeler: question pieces kept, longest answer in pieces,
            the most pieces between window starts (as run_squad.py: a
            window's start moves by at most its own length).
        null_score_threshold: optional float. Span labeler, SQuAD v2.0: the
            answer is empty when the null score beats the best span by more.
        precision: optional `"bfloat16"` (or `"float32"`, `"float16"`): the
            precision the SavedModel computes in, whatever the model was
            trained in; by default the model's own dtype policy. The weights
            are frozen as constants of that dtype, which oneDNN keeps in its
            own layout (figures in reports/export.md and
            reports/performance/runs.md). `"int8"`: the encoder's
            projections hold int8 weights (one scale per output unit) and
            multiply int8 activations quantized per batch
            (`BertEncoder.quantize`); the rest computes in float32. The int8
            kernels are oneDNN's: the SavedModel serves on x86 CPUs with
            TensorFlow's oneDNN build (the default on Linux x86).
        tokenizer_ops: optional `"fast"` or `"tf_serving"`: the op set the
            in-graph tokenizer runs on (`BertTokenizer`'s `ops`; the same
            ids either way); by default the preprocessor's own. The fast
            kernel loads in the stock TensorFlow Serving model server from
            2.10 on; `"tf_serving"` uses only tensorflow-text ops every stock
            server since 2.2 links (`keras_bert.export.TF_SERVING_TEXT_OPS`),
            at some cost in tokenization speed.

    Returns:
        `export_dir`.

    Example:
    >>> import tempfile
    >>> from keras_bert import BertEncoder
    >>> from keras_bert.text import BertPreprocessor
    >>> vocab = tempfile.mktemp()
    >>> _ = open(vocab, "w").write("\\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "good", "bad"]))
    >>> encoder = BertEncoder(vocab_size=7, hidden_size=8, num_layers=1,
    ...                       num_attention_heads=2, intermediate_size=12)
    >>> classifier = BertClassifier(encoder, num_classes=2)
    >>> path = export_saved_model(classifier, BertPreprocessor(vocab, 8), tempfile.mkdtemp() + "/m",
    ...                           label_names=["neg", "pos"])
    >>> serve = tf.saved_model.load(path).signatures["serving_default"]
    >>> serve(text=tf.constant(["good", "bad"]))["label"].shape
    TensorShape([2])
    """
    export_dir = os.fspath(export_dir)
    if os.path.exists(os.path.join(export_dir, "saved_model.pb")):
        raise FileExistsError(f"{export_dir} already holds a SavedModel; choose a new directory.")
    if tokenizer_ops is not None and tokenizer_ops != preprocessor.ops:
        check_tokenizer_ops(tokenizer_ops, "tokenizer_ops")
        preprocessor = type(preprocessor).from_config(dict(preprocessor.get_config(), ops=tokenizer_ops))
    quantize = "int8" if precision == "int8" else None
    policy = None if precision is None else dtype_policy_name("float32" if quantize else precision, "precision")
    exportable = (BertClassifier, BertTokenClassifier, BertFeatureTagger, BertSpanLabeler, BertTextEmbedder)
    if not isinstance(model, exportable):
        raise TypeError(
            f"export_saved_model takes a {', '.join(cls.__name__ for cls in exportable)}; got {type(model).__name__}."
        )
    model = model_to_freeze(model, policy, quantize)
    text = tf.TensorSpec([None], tf.string)
    seq_length = preprocessor.seq_length
    if isinstance(model, BertClassifier):
        serve = ClassifierServer(model, preprocessor, label_names).serving_function(pair)
    elif isinstance(model, BertTextEmbedder):
        server = EmbedderServer(model, preprocessor)
        serve = tf.function(lambda text: server.embed(text), input_signature=[text])
    elif isinstance(model, (BertTokenClassifier, BertFeatureTagger)):
        check_label_names(label_names, model.num_classes, "tagger")
        server = TaggerServer(model, preprocessor.tokenizer, seq_length, label_names)
        serve = tf.function(lambda text: server.tag(text), input_signature=[text])
    else:
        if max_query_length + 4 > seq_length:
            raise ValueError(f"max_query_length={max_query_length} leaves no context room in seq_length={seq_length}.")
        server = SpanServer(model, preprocessor.tokenizer, seq_length, max_query_length, max_answer_length,
                            null_score_threshold, doc_stride)
        serve = tf.function(lambda question, context: server.answer(question, context), input_signature=[text, text])
    # Weights frozen into the graph: TF Serving and `saved_model_cli run` load
    # it too (see `freeze`); the functions are all the SavedModel holds.
    module = tf.Module()
    module.serve = freeze(serve)
    module.tokenizer = preprocessor.tokenizer  # saves its vocabulary table, if any, filled at load (init op)
    signatures = {"serving_default": module.serve.get_concrete_function()}
    if isinstance(model, BertClassifier) and model.num_classes > 1:
        # For readers of the SavedModel (predict.py, a client) that need the labels before any input.
        module.label_names = tf.function(lambda: {"label_names": tf.constant(list(label_names), tf.string)},
                                         input_signature=[])
        signatures["label_names"] = module.label_names.get_concrete_function()
    tf.saved_model.save(module, export_dir, signatures=signatures)
    return export_dir


