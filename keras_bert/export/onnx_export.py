"""`export_onnx`: a fine-tuned model as an ONNX file for ONNX Runtime, the tokenizer left outside.

tf2onnx converts the model's inference graph. Two of the library's ops need
help on the way: the layer norms' oneDNN pattern (a `PlaceholderWithDefault`
that tf2onnx refuses), which the exported copy replaces by Keras' own ops
(`layer_norm_inference_kernel="keras"`), and the `Erfc` of Keras' exact
GELU, which ONNX lacks and `_erfc_as_one_minus_erf` writes as `1 - Erf`.
"""

import importlib
import os

import numpy as np
import tensorflow as tf

from keras_bert.features import INPUT_NAMES
from keras_bert.models import (
    BertClassifier,
    BertFeatureTagger,
    BertSpanLabeler,
    BertTextEmbedder,
    BertTokenClassifier,
)

_EXPORTABLE = (BertClassifier, BertTokenClassifier, BertSpanLabeler, BertTextEmbedder)
# Outputs with a dimension per token: their second axis is named as the inputs' sequence axis.
_PER_TOKEN = ("start_logits", "end_logits")


def export_onnx(model, path, int8_path=None, opset=17):
    """Converts a fine-tuned model, without its tokenizer, to an ONNX file for ONNX Runtime.

    The inputs are what `BertPreprocessor` gives: `input_word_ids`,
    `input_mask`, `input_type_ids`, int32 `[batch, seq_length]`, both axes
    dynamic (`seq_length` up to the encoder's `max_position_embeddings`).
    Tokenize in the calling process, with `BertPreprocessor` or any
    WordPiece tokenizer that gives the same ids. Outputs, float32, by model
    type:

    - `BertClassifier`: `logits` `[batch, num_classes]` and, unless it is
      a regression (`num_classes=1`), `probabilities` (their softmax).
    - `BertTokenClassifier`: `logits` `[batch, seq_length, num_classes]`.
    - `BertSpanLabeler`: `start_logits`, `end_logits`, each
      `[batch, seq_length]`.
    - `BertTextEmbedder`: `embedding` `[batch, hidden_size]` (unit length
      if the embedder normalizes).

    The graph computes in float32 whatever the model was trained in, with
    a LoRA model's adapters merged into its kernels. It uses only standard
    ONNX ops of `opset` (the default domain; no custom ops).

    With `int8_path`, a second file holds the same graph quantized by ONNX
    Runtime's dynamic quantization (`onnxruntime.quantization.
    quantize_dynamic`): the weights of every MatMul with a weight as int8,
    one scale per output column; their inputs are quantized at run time.
    The word embeddings (a Gather) stay float32. Outputs move (figures in
    reports/serving.md), so measure the task's accuracy before serving it;
    on x86 CPUs without AVX-512 VNNI, ONNX Runtime's int8 MatMul can also
    saturate.

    Args:
        model: a `BertClassifier`, `BertTokenClassifier`, `BertSpanLabeler`
            or `BertTextEmbedder`.
        path: str. The float32 `.onnx` file to write; must not exist.
        int8_path: optional str. Also write the int8 (dynamically
            quantized) model to this file; must not exist.
        opset: int. The ONNX opset: 13 to 18 (tf2onnx 1.17 writes up to
            18). Defaults to `17`.

    Returns:
        `path`.

    Raises:
        ImportError: tf2onnx, onnx or (for `int8_path`) onnxruntime is missing;
            `pip install "keras_bert[onnx]"` installs them.
        TypeError: `model` is of another type (`BertFeatureTagger`'s LSTM,
            a `tf.while_loop`, does not convert).
        FileExistsError: `path` or `int8_path` exists.
        ValueError: `int8_path` is `path`, `opset` is out of range, or the
            encoder is quantized (`BertEncoder.quantize`).

    Example:
    >>> import tempfile
    >>> import numpy as np
    >>> import onnxruntime
    >>> from keras_bert import BertEncoder
    >>> encoder = BertEncoder(vocab_size=7, hidden_size=8, num_layers=1,
    ...                       num_attention_heads=2, intermediate_size=12)
    >>> path = export_onnx(BertClassifier(encoder, num_classes=2), tempfile.mkdtemp() + "/model.onnx")
    >>> session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
    >>> [output.name for output in session.get_outputs()]
    ['logits', 'probabilities']
    >>> ids = np.array([[2, 5, 6, 3], [2, 5, 3, 0]], np.int32)  # [CLS] good bad [SEP], [CLS] good [SEP] [PAD]
    >>> feeds = {"input_word_ids": ids, "input_mask": (ids > 0).astype(np.int32), "input_type_ids": 0 * ids}
    >>> session.run(["probabilities"], feeds)[0].shape
    (2, 2)
    """
    onnx, tf2onnx, quantization = _import_converter(int8_path is not None)
    paths = [os.fspath(p) for p in (path, int8_path) if p is not None]
    if not isinstance(model, _EXPORTABLE):
        advice = (" Its LSTM (a tf.while_loop) does not convert; fine-tune a BertTokenClassifier instead."
                  if isinstance(model, BertFeatureTagger) else "")
        raise TypeError(
            f"export_onnx takes a {', '.join(cls.__name__ for cls in _EXPORTABLE)}; got {type(model).__name__}."
            + advice
        )
    if getattr(model.encoder, "quantization", None):
        raise ValueError(f"The model's encoder is quantized ({model.encoder.quantization}), which tf2onnx does not "
                         "convert; export the float model, with int8_path= for ONNX Runtime's int8.")
    if opset not in range(13, 19):
        raise ValueError(f"opset={opset!r}; use 13 to 18 (tf2onnx 1.17 writes up to 18).")
    if len(set(map(os.path.abspath, paths))) < len(paths):
        raise ValueError(f"int8_path={int8_path!r} is path; give the int8 model a file name of its own.")
    existing = [p for p in paths if os.path.exists(p)]
    if existing:
        raise FileExistsError(f"{existing[0]} exists; choose a new file name.")
    # float32, and only ops tf2onnx converts; LoRA adapters merged (`with_encoder_settings`).
    model = model.with_encoder_settings(dtype="float32", dense_inference_kernel="matmul",
                                        layer_norm_inference_kernel="keras")
    ids = tf.TensorSpec([None, None], tf.int32)

    @tf.function(input_signature=[ids, ids, ids])
    def serve(input_word_ids, input_mask, input_type_ids):
        inputs = dict(zip(INPUT_NAMES, (input_word_ids, input_mask, input_type_ids)))
        return _named_outputs(model, model(inputs, training=False))

    # tf2onnx folds the variables into constants itself (as `freezing.freeze` would).
    proto, _ = tf2onnx.convert.from_function(
        serve, input_signature=serve.input_signature, opset=opset,
        custom_op_handlers={"Erfc": (_erfc_as_one_minus_erf, [])},
    )
    _check_standard_ops(onnx, proto)
    _name_dynamic_axes(proto)
    for file in paths:
        os.makedirs(os.path.dirname(os.path.abspath(file)), exist_ok=True)
    onnx.save(proto, paths[0])
    if int8_path is not None:
        # Per-column weight scales: closer to float32 than one scale per matrix (reports/serving.md).
        quantization.quantize_dynamic(paths[0], paths[1], op_types_to_quantize=["MatMul"], per_channel=True,
                                      weight_type=quantization.QuantType.QInt8)
    return paths[0]


def _import_converter(quantize):
    try:
        import onnx
        import tf2onnx
        quantization = importlib.import_module("onnxruntime.quantization") if quantize else None
    except ImportError as error:
        raise ImportError(
            f"export_onnx needs tf2onnx, onnx and onnxruntime ({error}); "
            'install them with pip install "keras_bert[onnx]" (or pip install -e ".[onnx]" in a checkout).'
        ) from error
    return onnx, tf2onnx, quantization


def _named_outputs(model, outputs):
    """The model's outputs under the names of the ONNX graph, float32."""
    if isinstance(model, BertSpanLabeler):
        return {name: tf.cast(outputs[name], tf.float32) for name in ("start_logits", "end_logits")}
    outputs = tf.cast(outputs, tf.float32)
    if isinstance(model, BertTextEmbedder):
        return {"embedding": outputs}
    if isinstance(model, BertClassifier) and model.num_classes > 1:
        return {"logits": outputs, "probabilities": tf.nn.softmax(outputs, axis=-1)}
    return {"logits": outputs}


def _erfc_as_one_minus_erf(ctx, node, name, args):
    """tf2onnx handler: TensorFlow's `Erfc(x)` as ONNX's `1 - Erf(x)` (ONNX has no Erfc).

    Keras' exact GELU, `x / 2 * erfc(-x / sqrt(2))`, is the one user. Where
    `erfc` is tiny (large negative `x`) `1 - erf` loses its relative
    precision, but not its absolute one: it is off by at most float32's
    spacing at 1 (6e-8), so the GELU by at most `|x| / 2` times that.
    """
    from tf2onnx import utils

    node.type = "Erf"
    dtype = ctx.get_dtype(node.output[0])
    one = ctx.make_const(utils.make_name(f"{name}_one"), np.array(1, utils.map_onnx_to_numpy_type(dtype)))
    complement = ctx.insert_new_node_on_output("Sub", node.output[0], inputs=[one.output[0], node.output[0]],
                                               name=utils.make_name(f"{name}_one_minus"))
    ctx.set_dtype(complement.output[0], dtype)
    ctx.copy_shape(node.output[0], complement.output[0])


def _check_standard_ops(onnx, proto):
    """Raises if tf2onnx left a TensorFlow op it could not convert (it logs them and carries on)."""
    def nodes(graph):
        for node in graph.node:
            yield node
            for attribute in node.attribute:
                for subgraph in list(attribute.graphs) + ([attribute.g] if attribute.HasField("g") else []):
                    yield from nodes(subgraph)

    unknown = sorted({node.op_type for node in nodes(proto.graph) if not onnx.defs.has(node.op_type, node.domain)})
    if unknown:
        raise ValueError(f"tf2onnx left TensorFlow ops without an ONNX form: {unknown}; the model does not convert.")
    onnx.checker.check_model(proto)


def _name_dynamic_axes(proto):
    """Names the symbolic axes `batch` and `seq_length` (tf2onnx numbers them `unk__N`)."""
    for value in list(proto.graph.input) + list(proto.graph.output):
        dims = value.type.tensor_type.shape.dim
        per_token = value.name in INPUT_NAMES or value.name in _PER_TOKEN or len(dims) == 3
        for axis, dim_name in enumerate(("batch", "seq_length") if per_token else ("batch",)):
            if not dims[axis].HasField("dim_value"):
                dims[axis].dim_param = dim_name
