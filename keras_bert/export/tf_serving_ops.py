"""Which tensorflow-text ops the stock TensorFlow Serving model server links, and which ones an export needs.

The stock `tensorflow_model_server` (and the `tensorflow/serving` Docker
image) registers TensorFlow's own ops and, of tensorflow-text, the kernels
of the `ops_lib` target of the tensorflow-text release it pins; a SavedModel
with any other op fails to load there ("Op type not registered", as in
tensorflow/serving issue 2064 for `FastBertNormalize` on TF Serving 2.10).
"""

import tensorflow as tf

from keras_bert.private_apis import read_saved_model

# Op -> the first stock TF Serving release from which every later release
# links it. Derived from tensorflow/serving at every 2.x release tag up to
# 2.20.0 (bc7e9d2b; master at 9d981c5c pins the same tensorflow-text
# 2.20.0): `tensorflow_serving/model_servers/BUILD` links
# `SUPPORTED_TENSORFLOW_OPS`, which holds
# "@org_tensorflow_text//tensorflow_text:ops_lib", into `server_lib`;
# `tensorflow_serving/workspace.bzl` pins `org_tensorflow_text` (TF Serving
# 2.2-2.3: tensorflow-text 2.2.0, 2.10: 2.7.3, 2.11: 2.8.2, 2.12-2.19:
# 2.12.1, 2.20: 2.20.0). In tensorflow/text at those tags, `ops_lib`'s
# dependencies in `tensorflow_text/BUILD` name the op definition files
# (`tensorflow_text/core/ops/*.cc`: `REGISTER_OP` names, or the `kOpName` of
# the kernel a `REGISTER_TF_OP_SHIM` registers). TF Serving 2.8 and 2.9 went
# back to tensorflow-text 2.6.0, so the fast WordPiece ops, first in 2.7.3,
# count from 2.10.
TF_SERVING_TEXT_OPS = {
    "CaseFoldUTF8": "2.0.0",
    "ConstrainedSequence": "2.0.0",
    "NormalizeUTF8": "2.0.0",
    "RougeL": "2.0.0",
    "SentenceFragments": "2.0.0",
    "UnicodeScriptTokenizeWithOffsets": "2.0.0",
    "WhitespaceTokenizeWithOffsets": "2.0.0",
    "WordpieceTokenizeWithOffsets": "2.0.0",
    "MaxSpanningTree": "2.2.0",
    "RegexSplitWithOffsets": "2.2.0",
    "SentencepieceDetokenizeOp": "2.2.0",
    "SentencepieceIdToStringOp": "2.2.0",
    "SentencepieceOp": "2.2.0",
    "SentencepieceTokenizeOp": "2.2.0",
    "SentencepieceTokenizeWithOffsetsOp": "2.2.0",
    "SentencepieceVocabSizeOp": "2.2.0",
    "SplitMergeTokenizeWithOffsets": "2.2.0",
    "FindSourceOffsets": "2.4.3",
    "NormalizeUTF8WithOffsetsMap": "2.4.3",
    "SentenceFragmentsV2": "2.4.3",
    "SentencepieceStringToIdOp": "2.4.3",
    "TokenizerFromLogits": "2.4.3",
    "FastWordpieceTokenizeWithOffsets": "2.10.0",
    "TFText>FastWordpieceDetokenize": "2.10.0",
    "TFText>WhitespaceTokenizeWithOffsetsV2": "2.10.0",
    "FastBertNormalize": "2.12.0",
    "PhraseTokenize": "2.12.0",
    "TFText>BoiseTagsToOffsets": "2.12.0",
    "TFText>ByteSplitByOffsets": "2.12.0",
    "TFText>ByteSplitWithOffsets": "2.12.0",
    "TFText>FastSentencepieceDetokenize": "2.12.0",
    "TFText>FastSentencepieceTokenize": "2.12.0",
    "TFText>NgramsStringJoin": "2.12.0",
    "TFText>OffsetsToBoiseTags": "2.12.0",
    "TFText>PhraseDetokenize": "2.12.0",
    "TFText>RoundRobinGenerateMasks": "2.20.0",
    "TFText>RoundRobinTrim": "2.20.0",
    "TFText>Utf8Binarize": "2.20.0",
}


def custom_ops(export_dir):
    """The ops of a SavedModel that TensorFlow itself does not define, sorted.

    Every graph and function of `saved_model.pb` is read, nothing is run. An
    op counts as TensorFlow's own when `tf.raw_ops` has it or its name starts
    with `_` (TensorFlow's internal ops, such as oneDNN's `_QuantizedMatMul`,
    which `tf.raw_ops` leaves out); tensorflow-text's ops are neither.

    Args:
        export_dir: str. A SavedModel directory.

    Returns:
        A sorted list of op names, e.g. `["FastWordpieceTokenizeWithOffsets", "NormalizeUTF8"]`.

    Example:
    >>> import tempfile, tensorflow_text
    >>> module = tf.Module()
    >>> module.f = tf.function(lambda s: tensorflow_text.normalize_utf8(s, "NFD"),
    ...                        input_signature=[tf.TensorSpec([None], tf.string)])
    >>> path = tempfile.mkdtemp()
    >>> tf.saved_model.save(module, path)
    >>> custom_ops(path), oldest_tf_serving(custom_ops(path))
    (['NormalizeUTF8'], '2.0.0')
    """
    ops = set()
    for meta_graph in read_saved_model(export_dir).meta_graphs:
        ops.update(node.op for node in meta_graph.graph_def.node)
        for function in meta_graph.graph_def.library.function:
            ops.update(node.op for node in function.node_def)
    return sorted(op for op in ops if not (hasattr(tf.raw_ops, op) or op.startswith("_")))


def oldest_tf_serving(ops):
    """The oldest stock TF Serving release that links all of `ops` (TensorFlow's own ops aside).

    It says nothing of TensorFlow's own ops, which a server older than the
    TensorFlow that wrote the SavedModel may lack.

    Args:
        ops: custom op names, as `custom_ops` lists them.

    Returns:
        A version string, e.g. `"2.10.0"`; `"2.0.0"`, the first release to
        link tensorflow-text, when `ops` is empty.

    Raises:
        ValueError: naming the ops no stock release links.

    Example:
    >>> oldest_tf_serving(["NormalizeUTF8", "FastWordpieceTokenizeWithOffsets"])
    '2.10.0'
    """
    missing = sorted(set(ops) - set(TF_SERVING_TEXT_OPS))
    if missing:
        raise ValueError(
            f"No stock TensorFlow Serving release links {missing}; export with tokenizer_ops='tf_serving', "
            "or build a model server that links them."
        )
    return max((TF_SERVING_TEXT_OPS[op] for op in ops), key=lambda v: tuple(map(int, v.split("."))), default="2.0.0")
