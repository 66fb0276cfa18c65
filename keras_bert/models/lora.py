"""LoRA (Hu et al., 2021) on the encoder's projections: adapters to train, save apart and merge for serving.

Keras' `Dense.enable_lora` (which `FusedDense` inherits) adds the low-rank
pair `lora_kernel_a` `(in, rank)` and `lora_kernel_b` `(rank, out)`, starting
at `B = 0`, and computes with `kernel + (alpha / rank) * A @ B`. This module
chooses which projections get them, freezes everything else in the encoder,
and folds the pair back into plain kernels, so a merged model is the
ordinary encoder, with its fused inference kernels and nothing extra.
"""

import json

import numpy as np

from keras_bert.layers.transformer_block import TransformerBlock

# The projections of a `TransformerBlock` LoRA can target (its `FusedDense` layers' names).
LORA_TARGETS = ("query", "key", "value", "attention_output", "intermediate_dense", "output_dense")
DEFAULT_LORA_TARGET = ("query", "value")  # the LoRA paper's and keras-hub's choice


def enable_lora(encoder, rank, alpha=None, target=DEFAULT_LORA_TARGET):
    """Freezes `encoder` and gives the `target` projections of every block a trainable LoRA pair.

    Biases, embeddings, layer norms and the pooler are frozen too (as PEFT's
    default `bias="none"`); a task head built on the encoder stays
    trainable.

    Args:
        encoder: a `BertEncoder` without LoRA.
        rank: int. The pair's inner width.
        alpha: optional float. The update is scaled by `alpha / rank`;
            defaults to `rank` (a scale of 1).
        target: names from `LORA_TARGETS`. Defaults to `("query", "value")`.

    Returns:
        The LoRA-enabled `FusedDense` layers.

    Example:
    >>> from keras_bert import BertEncoder
    >>> encoder = BertEncoder(vocab_size=23, hidden_size=8, num_layers=2,
    ...                       num_attention_heads=2, intermediate_size=12)
    >>> len(enable_lora(encoder, rank=2))
    4
    >>> sorted({v.name for v in encoder.trainable_weights})
    ['lora_kernel_a', 'lora_kernel_b']
    """
    if not isinstance(rank, int) or isinstance(rank, bool) or rank < 1:
        raise ValueError(f"LoRA rank={rank!r}; use a positive integer (4 to 16 is usual).")
    if alpha is not None and not alpha > 0:
        raise ValueError(f"LoRA alpha={alpha!r}; use a positive number, or None for alpha = rank.")
    target = (target,) if isinstance(target, str) else tuple(target)
    unknown = sorted(set(target) - set(LORA_TARGETS))
    if unknown or not target:
        raise ValueError(f"LoRA target {unknown or 'is empty'}: choose among {', '.join(LORA_TARGETS)}.")
    if lora_layers(encoder):
        raise ValueError("LoRA is already enabled on this encoder; enable it once.")
    chosen = [layer for layer in projection_layers(encoder) if layer.name in target]
    for layer in encoder.layers:  # frozen with their sublayers and variables
        layer.trainable = False
    for layer in chosen:
        layer.trainable = True
        layer.enable_lora(rank, lora_alpha=alpha)
        if layer.bias is not None:
            layer.bias.trainable = False
    encoder.lora_settings = {"rank": rank, "alpha": chosen[0].lora_alpha, "target": list(target)}
    return chosen


def lora_layers(model):
    """The LoRA-enabled projections of a `BertEncoder` or of a task model's encoder, block by block."""
    return [layer for layer in projection_layers(getattr(model, "encoder", model)) if layer.lora_enabled]


def merged_weights(model):
    """`model.get_weights()` with each LoRA pair folded into its kernel, and the pairs left out.

    What a copy of `model` built without LoRA takes in `set_weights`. The
    merge is computed in float32: `kernel + (alpha / rank) * A @ B`.

    Example:
    >>> from keras_bert import BertEncoder
    >>> encoder = BertEncoder(vocab_size=23, hidden_size=8, num_layers=1,
    ...                       num_attention_heads=2, intermediate_size=12)
    >>> _ = enable_lora(encoder, rank=2)
    >>> len(encoder.get_weights()) - len(merged_weights(encoder))
    4
    """
    merged, skipped = {}, set()
    for layer in lora_layers(model):
        kernel = _kernel_variable(layer)
        update = np.asarray(layer.lora_kernel_a) @ np.asarray(layer.lora_kernel_b)
        merged[id(kernel)] = np.asarray(kernel, np.float32) + (layer.lora_alpha / layer.lora_rank) * update
        skipped.update((id(layer.lora_kernel_a), id(layer.lora_kernel_b)))
    return [merged[id(v)] if id(v) in merged else np.asarray(v) for v in model.weights if id(v) not in skipped]


def save_lora_weights(model, path):
    """Writes what LoRA fine-tuning changed, the pairs and the trainable head, to an `.npz` file.

    Args:
        model: a task model (or encoder) with LoRA enabled.
        path: str, ending in `.npz`.

    Returns:
        `path`.
    """
    if not lora_layers(model):
        raise ValueError("This model has no LoRA weights; call enable_lora(rank) and train it first.")
    if not str(path).endswith(".npz"):
        raise ValueError(f"{path}: a LoRA weights file name ends in .npz.")
    values = {variable.path: np.asarray(variable) for variable in model.trainable_weights}
    settings = _encoder_lora_settings(model)
    np.savez(path, __lora_settings__=np.array(json.dumps(settings)), **values)
    return path


def load_lora_weights(model, path):
    """Reads `save_lora_weights`' file into `model`, enabling LoRA with the file's settings if it is off.

    Raises:
        ValueError: the file's variables are not this model's (another task
            head, rank or target).
    """
    from keras_bert.models.bert_encoder import BertEncoder

    with np.load(path) as stored:
        settings = json.loads(str(stored["__lora_settings__"]))
        values = {name: stored[name] for name in stored.files if name != "__lora_settings__"}
    if not lora_layers(model):
        encoder = model if isinstance(model, BertEncoder) else model.encoder
        enable_lora(encoder, settings["rank"], settings["alpha"], settings["target"])
    variables = {variable.path: variable for variable in model.trainable_weights}
    if sorted(variables) != sorted(values):
        missing, extra = sorted(set(variables) - set(values)), sorted(set(values) - set(variables))
        raise ValueError(
            f"{path} does not fit this model (LoRA {settings}): the model has {missing[:3]} it lacks, it has "
            f"{extra[:3]} the model lacks. Load it into the task model and LoRA settings it was saved from."
        )
    for name, variable in variables.items():
        if tuple(variable.shape) != values[name].shape:
            raise ValueError(f"{path}: {name} is {values[name].shape} there, {tuple(variable.shape)} here.")
        variable.assign(values[name])
    return model


def _encoder_lora_settings(model):
    encoder = getattr(model, "encoder", model)
    return dict(encoder.lora_settings)


def projection_layers(encoder):
    """Every block's `FusedDense` projections, in `LORA_TARGETS` order."""
    projections = []
    for block in encoder.layers:
        if isinstance(block, TransformerBlock):
            attention = block.self_attention
            projections += [attention.query, attention.key, attention.value, attention.attention_output,
                            block.intermediate_dense, block.output_dense]
    return projections


def _kernel_variable(layer):
    # The stored kernel; `layer.kernel` is the merged value cast to the compute dtype.
    return next(v for v in layer.weights if v.name == "kernel")
