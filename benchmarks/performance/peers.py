"""Ours and the peers (keras-hub, HF transformers), built alike for each case."""

from performance.harness import SIZES, VOCAB_SIZE


def ours_encoder(size, **kwargs):
    import keras_bert

    layers, hidden, heads, intermediate = SIZES[size]
    return keras_bert.BertEncoder(vocab_size=VOCAB_SIZE, hidden_size=hidden, num_layers=layers,
                                  num_attention_heads=heads, intermediate_size=intermediate, **kwargs)


def hub_backbone(size):
    import keras_hub

    layers, hidden, heads, intermediate = SIZES[size]
    return keras_hub.models.BertBackbone(vocabulary_size=VOCAB_SIZE, num_layers=layers, num_heads=heads,
                                         hidden_dim=hidden, intermediate_dim=intermediate)


def hf_config(size):
    import transformers

    layers, hidden, heads, intermediate = SIZES[size]
    return transformers.BertConfig(vocab_size=VOCAB_SIZE, hidden_size=hidden, num_hidden_layers=layers,
                                   num_attention_heads=heads, intermediate_size=intermediate)


def ours_mlm_batch(data):
    """`(x, y)` for `BertPretrainer.train_on_batch` from a `random_batch` with predictions."""
    import numpy as np

    x = {"input_word_ids": data["ids"], "input_mask": data["mask"], "input_type_ids": data["segments"],
         "masked_lm_positions": data["positions"]}
    return x, {"mlm": data["labels"], "nsp": np.zeros((len(data["ids"]),), "int32")}


def hub_mlm_inputs(data):
    """`BertMaskedLM` inputs from a `random_batch` with predictions (its labels are `data["labels"]`)."""
    return {"token_ids": data["ids"], "padding_mask": data["mask"], "segment_ids": data["segments"],
            "mask_positions": data["positions"]}


def hf_mlm_labels(data):
    """`BertForMaskedLM` labels: the masked ids at their positions, -100 (ignored) elsewhere."""
    import numpy as np

    labels = np.full(data["ids"].shape, -100, "int64")
    np.put_along_axis(labels, data["positions"], data["labels"], axis=1)
    return labels


def hub_masked_lm(size, jit_compile=False):
    """keras-hub's `BertMaskedLM`, compiled as the train step case trains it (AdamW, clipping)."""
    import keras
    import keras_hub

    model = keras_hub.models.BertMaskedLM(hub_backbone(size), preprocessor=None)
    model.compile(optimizer=keras.optimizers.AdamW(1e-4, weight_decay=0.01, global_clipnorm=1.0),
                  jit_compile=jit_compile, weighted_metrics=[],
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


def torch_autocast(bfloat16):
    import contextlib

    import torch

    return torch.autocast("cpu", dtype=torch.bfloat16) if bfloat16 else contextlib.nullcontext()


def frozen_forward(encoder, inputs):
    """The encoder's forward as an exported SavedModel serves it: any batch and length, weights folded
    into constants (`keras_bert.export.freezing.freeze`), so oneDNN keeps them cast and laid out.

    Fresh layers have all-zero biases and layer-norm betas, which the folding would drop with their
    adds (and the fusions that include them); trained weights have none, so these get small values."""
    import tensorflow as tf

    from keras_bert.export.freezing import freeze

    for variable in encoder.weights:
        if variable.path.rsplit("/", 1)[-1] in ("bias", "beta", "gamma"):
            variable.assign(variable + tf.random.normal(variable.shape, stddev=0.02, seed=0))

    def forward(input_word_ids, input_mask, input_type_ids):
        inputs = {"input_word_ids": input_word_ids, "input_mask": input_mask, "input_type_ids": input_type_ids}
        return {"sequence_output": encoder(inputs, training=False)["sequence_output"]}

    serve = freeze(tf.function(forward, input_signature=[tf.TensorSpec([None, None], tf.int32)] * 3))
    ids, mask, segments = inputs["input_word_ids"], inputs["input_mask"], inputs["input_type_ids"]
    return lambda: serve(ids, mask, segments)["sequence_output"].numpy()
