"""LoRA: what trains, what a merge gives, the adapter file, and serving after the merge."""

import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_bert import BertClassifier, BertEncoder
from keras_bert.export.freezing import freeze, model_to_freeze
from keras_bert.models.lora import lora_layers, merged_weights
from keras_test_utils import executed_op_types


def _classifier(seed=0):
    keras.utils.set_random_seed(seed)
    encoder = BertEncoder(vocab_size=30, hidden_size=16, num_layers=2, num_attention_heads=2,
                          intermediate_size=24, max_position_embeddings=16)
    return BertClassifier(encoder, num_classes=3)


def _inputs(batch=4, seq=9):
    rng = np.random.default_rng(1)
    mask = np.ones((batch, seq), "int32")
    mask[0, 6:] = 0
    ids = rng.integers(5, 30, (batch, seq)).astype("int32") * mask
    return {"input_word_ids": ids, "input_mask": mask, "input_type_ids": np.zeros_like(ids)}


def _with_random_adapters(model, seed=2):
    """A trained adapter's stand-in: B is zero when LoRA starts, which would hide every merge bug."""
    rng = np.random.default_rng(seed)
    for layer in lora_layers(model):
        layer.lora_kernel_b.assign(rng.normal(0, 0.3, layer.lora_kernel_b.shape))
    return model


def _adapted_classifier(**lora):
    model = _classifier()
    model.enable_lora(**{"rank": 2, **lora})
    return _with_random_adapters(model)


def test_only_the_adapters_and_the_head_train():
    model = _classifier()
    model.enable_lora(rank=4, target=("query", "value", "intermediate_dense"))
    trainable = sorted(v.path for v in model.trainable_weights)
    expected = sorted(
        [f"transformer_layer_{i}/self_attention/{p}/lora_kernel_{ab}"
         for i in range(2) for p in ("query", "value") for ab in "ab"]
        + [f"transformer_layer_{i}/intermediate_dense/lora_kernel_{ab}" for i in range(2) for ab in "ab"]
        + ["logits/kernel", "logits/bias"]
    )
    assert trainable == expected
    # 2 blocks x (2 x (16x4 + 4x16) + (16x4 + 4x24)) + the head's 16x3 + 3.
    assert sum(int(np.prod(v.shape)) for v in model.trainable_weights) == 2 * (2 * 128 + 160) + 51
    assert model.encoder.lora_settings == {"rank": 4, "alpha": 4, "target": ["query", "value", "intermediate_dense"]}


def test_training_moves_only_the_trainable_weights():
    model = _classifier()
    model.enable_lora(rank=2)
    model.compile(optimizer=keras.optimizers.Adam(1e-2),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    trainable = {id(v) for v in model.trainable_weights}
    before = [np.array(v) for v in model.weights]
    model.fit(_inputs(), np.array([0, 1, 2, 1]), epochs=3, verbose=0)
    for variable, old in zip(model.weights, before):
        moved = not np.array_equal(np.array(variable), old)
        if id(variable) in trainable:
            assert moved, variable.path
        elif variable.name != "seed_state":  # dropout's random state advances
            assert not moved, variable.path


def test_a_fresh_adapter_changes_nothing_and_the_merge_equals_the_adapted_model():
    plain = _classifier()
    adapted = _classifier()
    adapted.enable_lora(rank=3, alpha=6.0, target=("query", "key", "value", "attention_output",
                                                   "intermediate_dense", "output_dense"))
    inputs = _inputs()
    np.testing.assert_array_equal(adapted(inputs), plain(inputs))  # B starts at zero
    _with_random_adapters(adapted)
    assert not np.allclose(adapted(inputs), plain(inputs), atol=1e-3)

    # The merged kernel is kernel + (alpha / rank) A B, in NumPy.
    layer = adapted.encoder.get_layer("transformer_layer_1").intermediate_dense
    kernel = next(np.array(v) for v in layer.weights if v.name == "kernel")
    expected = kernel + 2.0 * np.array(layer.lora_kernel_a) @ np.array(layer.lora_kernel_b)
    merged = dict(zip([v.path for v in plain.weights], merged_weights(adapted)))
    np.testing.assert_allclose(merged["transformer_layer_1/intermediate_dense/kernel"], expected, rtol=1e-6)

    copy = adapted.with_encoder_settings()
    assert not lora_layers(copy) and len(copy.weights) == len(plain.weights)
    np.testing.assert_allclose(copy(inputs), adapted(inputs), atol=1e-5)


def test_keras_file_of_an_adapted_model_is_the_merged_model(tmp_path):
    model = _adapted_classifier()
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras")
    assert not lora_layers(loaded)
    np.testing.assert_allclose(loaded(_inputs()), model(_inputs()), atol=1e-5)


def test_adapter_file_round_trip_and_mismatch(tmp_path):
    model = _adapted_classifier(alpha=8)
    model.get_layer("logits").kernel.assign(np.full((16, 3), 0.5))
    path = model.save_lora_weights(str(tmp_path / "adapter.npz"))
    head_and_pairs = sum(int(np.prod(v.shape)) for v in model.trainable_weights) * 4
    assert os.path.getsize(path) < head_and_pairs + 4096  # the adapters and head only

    restored = _classifier().load_lora_weights(path)  # same base weights (seed), LoRA as saved
    assert restored.encoder.lora_settings == {"rank": 2, "alpha": 8, "target": ["query", "value"]}
    np.testing.assert_allclose(restored(_inputs()), model(_inputs()), atol=1e-6)

    other = _classifier()
    other.enable_lora(rank=2, target=("key",))
    with pytest.raises(ValueError, match="does not fit this model"):
        other.load_lora_weights(path)
    with pytest.raises(ValueError, match="no LoRA weights"):
        _classifier().save_lora_weights(str(tmp_path / "none.npz"))


@pytest.mark.parametrize("kwargs, message", [
    ({"rank": 0}, "rank=0"),
    ({"rank": 2, "target": ("queries",)}, "choose among"),
    ({"rank": 2, "alpha": -1.0}, "alpha=-1.0"),
])
def test_bad_settings_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        _classifier().enable_lora(**kwargs)


def test_enabling_twice_is_refused():
    model = _classifier()
    model.enable_lora(rank=2)
    with pytest.raises(ValueError, match="already enabled"):
        model.enable_lora(rank=2)


def test_the_merged_export_runs_the_plain_models_fused_kernels():
    plain = _classifier()
    adapted = _adapted_classifier()
    # Grappler folds zero biases and betas away with their adds; trained weights are not zero.
    plain.set_weights([w + 0.01 for w in plain.get_weights()])
    adapted.set_weights([w + 0.01 if w.ndim == 1 else w for w in adapted.get_weights()])
    ids = tf.TensorSpec([None, None], tf.int32)

    def frozen_ops(model):
        frozen_model = model_to_freeze(model)

        def logits(input_word_ids, input_mask, input_type_ids):
            inputs = {"input_word_ids": input_word_ids, "input_mask": input_mask, "input_type_ids": input_type_ids}
            return {"logits": frozen_model(inputs, training=False)}

        serve = freeze(tf.function(logits, input_signature=[ids, ids, ids]))
        return sorted(executed_op_types(serve, *_inputs().values())), serve(*_inputs().values())["logits"]

    plain_ops, _ = frozen_ops(plain)
    adapted_ops, logits = frozen_ops(adapted)
    assert plain_ops.count("_FusedMatMul") >= 12, plain_ops  # 6 projections x 2 blocks
    assert adapted_ops == plain_ops
    np.testing.assert_allclose(logits, adapted(_inputs()), atol=1e-5)
