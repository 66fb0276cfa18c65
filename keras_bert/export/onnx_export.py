"""`export_onnx`: a fine-tuned model as an ONNX file for ONNX Runtime, the tokenizer left outside.

tf2onnx converts the model's inference graph. Two of the library's ops need
help on the way: the layer norms' oneDNN pattern (a `PlaceholderWithDefault`
that tf2onnx refuses), which the exported copy replaces by Keras' own ops
(`layer_norm_inference_kernel="keras"`), and the `Erfc` of Keras' exact
GELU, which ONNX lacks and `_erfc_as_one_minus_erf` writes as `1 - Erf`.
`_fuseable_patterns` then rewrites the converted layer norms and GELUs into
the standard forms ONNX Runtime fuses at load (measured in reports/serving.md).
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


def export_onnx(model, path, int8_path=None, opset=17, skip_padding=True):
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
    ONNX ops of `opset` (the default domain; no custom ops), in the forms
    ONNX Runtime fuses when it loads the file: each layer norm is one
    `LayerNormalization` (opset 17 and later), and each GELU is in the
    pattern its `Gelu` fusion matches.

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
        skip_padding: bool. The blocks compute only the real tokens' rows
            (`BertEncoder`'s `skip_padding`): batches of mixed lengths run
            faster, while a single sentence (no padding) pays for the index
            ops (measured in reports/serving.md). `False` for batch-1
            latency. Defaults to `True`.

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
                                        layer_norm_inference_kernel="keras", skip_padding=skip_padding)
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
    _fuseable_patterns(proto)
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


class _Graph:
    """Producers and consumers of an ONNX graph's tensors, for the pattern rewrites below."""

    def __init__(self, graph, ranks):
        self.graph = graph
        self.ranks = ranks  # tensor name -> rank, where shape inference knows it
        self.producer = {out: node for node in graph.node for out in node.output}
        self.consumers = {}
        for node in graph.node:
            for name in node.input:
                self.consumers.setdefault(name, []).append(node)
        self.constants = {init.name: init for init in graph.initializer}

    def parent(self, node, index, op_types):
        """The node producing `node.input[index]` if its type is one of `op_types`, else None."""
        if index >= len(node.input):
            return None
        parent = self.producer.get(node.input[index])
        return parent if parent is not None and parent.op_type in op_types else None

    def only_child(self, node, op_types):
        """The single node reading `node`'s output if its type is one of `op_types`, else None."""
        children = self.consumers.get(node.output[0], [])
        return children[0] if len(children) == 1 and children[0].op_type in op_types else None

    def scalar(self, name):
        """The value of a one-element constant, or None."""
        from onnx import numpy_helper

        init = self.constants.get(name)
        if init is None:
            return None
        value = numpy_helper.to_array(init)
        return float(value.reshape(-1)[0]) if value.size == 1 else None

    def only_inside(self, nodes, pattern):
        """Whether every reader of `nodes`' outputs is in `pattern` (so replacing the pattern loses nothing)."""
        inside = {id(node) for node in pattern}
        return all(id(reader) in inside for node in nodes for out in node.output
                   for reader in self.consumers.get(out, []))

    def constant(self, name, value):
        """Adds an initializer (once) and returns its name."""
        from onnx import numpy_helper

        if name not in self.constants:
            self.constants[name] = numpy_helper.from_array(np.asarray(value), name)
            self.graph.initializer.append(self.constants[name])
        return name

    def other_input(self, node, name):
        """The input of a two-input `node` that is not `name`."""
        first, second = node.input
        return second if first == name else first if second == name else None


def _fuseable_patterns(proto):
    """Rewrites layer norms and GELUs into the standard forms ONNX Runtime fuses.

    TensorFlow's ops reach ONNX as many small nodes (a layer norm as 13,
    an exact GELU as 6, through `1 - Erf`), in orders ONNX Runtime's
    load-time fusions do not recognise, so each ran node by node. The
    rewritten graph computes the same functions with standard ops: opset
    17's `LayerNormalization`, and the GELU as `x * (1 + Erf(x / sqrt 2)) / 2`
    (fused into one `Gelu` or `BiasGelu` at load).
    """
    import onnx

    inferred = onnx.shape_inference.infer_shapes(proto).graph
    ranks = {value.name: len(value.type.tensor_type.shape.dim)
             for value in [*inferred.value_info, *inferred.input, *inferred.output]
             if value.type.tensor_type.HasField("shape")}
    opset = next(o.version for o in proto.opset_import if o.domain in ("", "ai.onnx"))
    if opset >= 17:  # the first opset with LayerNormalization
        _rewrite(proto.graph, ranks, _layer_norm_rewrite)
    _rewrite(proto.graph, ranks, _gelu_rewrite)


def _rewrite(graph, ranks, rewrite):
    """Applies `rewrite(view, node)` -> (new nodes, dead nodes) or None at each node, then drops the dead."""
    view = _Graph(graph, ranks)
    dead, added = set(), []
    for node in list(graph.node):
        if id(node) in dead:
            continue
        found = rewrite(view, node)
        if found:
            new_nodes, old_nodes = found
            added.append((node, new_nodes))
            dead.update(id(n) for n in old_nodes)
    if not added:
        return
    position = {id(node): new_nodes for node, new_nodes in added}
    kept = []
    for node in graph.node:  # new nodes take their anchor's place: the graph stays topologically sorted
        if id(node) in position:
            kept.extend(position[id(node)])
        if id(node) not in dead:
            kept.append(node)
    del graph.node[:]
    graph.node.extend(kept)
    read = {name for node in graph.node for name in node.input}
    unread = [init for init in graph.initializer if init.name not in read]  # the replaced nodes' constants
    for init in unread:
        graph.initializer.remove(init)


def _layer_norm_rewrite(view, sqrt):
    """A layer norm over the last axis as tf2onnx writes Keras' (anchored at its `Sqrt`), as one node.

    mean = Mean(x); var = Mean((x - mean)^2); r = 1 / Sqrt(var + eps);
    out = x * (r * gamma) + (-mean * (r * gamma) + beta).
    """
    from onnx import helper, numpy_helper

    if sqrt.op_type != "Sqrt":
        return None
    means = ("ReduceMean", "GlobalAveragePool")
    add_eps = view.parent(sqrt, 0, ("Add",))
    variance = add_eps and view.parent(add_eps, 0, means)
    square = variance and view.parent(variance, 0, ("Mul",))
    centred = square and square.input[0] == square.input[1] and view.parent(square, 0, ("Sub",))
    mean = centred and view.parent(centred, 1, means)
    if not mean or centred.input[0] != mean.input[0] or not all(_over_last_axis(view, n) for n in (mean, variance)):
        return None
    x, epsilon = mean.input[0], view.scalar(add_eps.input[1])
    reciprocal = view.only_child(sqrt, ("Reciprocal",))
    scaled = reciprocal and view.only_child(reciprocal, ("Mul",))
    if epsilon is None or not scaled:
        return None
    gamma = view.other_input(scaled, reciprocal.output[0])
    users = view.consumers.get(scaled.output[0], [])
    neg = [n for n in view.consumers.get(mean.output[0], []) if n.op_type == "Neg"]
    if len(users) != 2 or len(neg) != 1 or gamma not in view.constants:
        return None
    x_scaled = next((n for n in users if n.op_type == "Mul" and view.other_input(n, scaled.output[0]) == x), None)
    mean_scaled = next((n for n in users if n.op_type == "Mul"
                        and view.other_input(n, scaled.output[0]) == neg[0].output[0]), None)
    shift = mean_scaled and view.only_child(mean_scaled, ("Add",))
    output = x_scaled and shift and view.only_child(shift, ("Add",))
    if not output or view.other_input(output, shift.output[0]) != x_scaled.output[0]:
        return None
    beta = view.other_input(shift, mean_scaled.output[0])
    old = [mean, centred, square, variance, add_eps, sqrt, reciprocal, scaled, x_scaled, neg[0], mean_scaled,
           shift, output]
    if beta not in view.constants or not view.only_inside(old[:-1], old):
        return None
    flat = []
    for name in (gamma, beta):  # LayerNormalization takes [hidden] scale and bias
        flat.append(view.constant(f"{name}_flat", numpy_helper.to_array(view.constants[name]).reshape(-1)))
    fused = helper.make_node("LayerNormalization", [x, *flat], [output.output[0]], axis=-1, epsilon=epsilon,
                             name=f"{output.name}_layer_norm")
    return [fused], old


def _over_last_axis(view, node):
    """Whether a mean node averages over the last axis only, keeping it."""
    from onnx import numpy_helper

    rank = view.ranks.get(node.input[0])
    if node.op_type == "GlobalAveragePool":
        return rank == 3  # over every axis after the first two: the last, for [batch, seq, hidden]
    keepdims = next((a.i for a in node.attribute if a.name == "keepdims"), 1)
    axes = next((list(a.ints) for a in node.attribute if a.name == "axes"), None)
    if len(node.input) > 1 and node.input[1] in view.constants:  # opset 18: axes as an input
        axes = numpy_helper.to_array(view.constants[node.input[1]]).reshape(-1).tolist()
    return keepdims == 1 and rank is not None and axes in ([-1], [rank - 1])


def _gelu_rewrite(view, erf):
    """Keras' exact GELU, `x / 2 * (1 - Erf(-x / sqrt 2))` (anchored at its `Erf`), as `x * (1 + Erf(x / sqrt 2)) / 2`."""
    from onnx import helper

    if erf.op_type != "Erf":
        return None
    scaled = view.parent(erf, 0, ("Mul",))
    negated = scaled and next((view.producer[i] for i in scaled.input
                               if i in view.producer and view.producer[i].op_type == "Neg"), None)
    if not negated:
        return None
    factor = view.scalar(view.other_input(scaled, negated.output[0]))
    x = negated.input[0]
    complement = view.only_child(erf, ("Sub",))
    product = complement and view.only_child(complement, ("Mul",))
    if (factor is None or abs(factor - 0.5 ** 0.5) > 1e-6 or not product
            or view.scalar(complement.input[0]) != 1.0 or complement.input[1] != erf.output[0]):
        return None
    half_x = view.producer.get(view.other_input(product, complement.output[0]))
    if half_x is None or half_x.op_type != "Mul" or x not in half_x.input:
        return None
    half = view.scalar(view.other_input(half_x, x))
    old = [negated, scaled, erf, complement, half_x, product]
    if half != 0.5 or not view.only_inside(old[:-1], old):
        return None
    prefix = erf.name
    sqrt2, one, half = (view.constant(f"{prefix}_{key}", np.float32(value))
                        for key, value in (("sqrt2", np.sqrt(2.0)), ("one", 1.0), ("half", 0.5)))
    nodes = [
        helper.make_node("Div", [x, sqrt2], [f"{prefix}_div"], name=f"{prefix}_div"),
        helper.make_node("Erf", [f"{prefix}_div"], [f"{prefix}_erf"], name=f"{prefix}_erf"),
        helper.make_node("Add", [f"{prefix}_erf", one], [f"{prefix}_add"], name=f"{prefix}_add"),
        helper.make_node("Mul", [x, f"{prefix}_add"], [f"{prefix}_mul"], name=f"{prefix}_mul"),
        helper.make_node("Mul", [f"{prefix}_mul", half], [product.output[0]], name=f"{prefix}_gelu"),
    ]
    return nodes, old


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
