import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_bert import BertConfig, BertEncoder
from keras_bert.checkpoints.name_table import encoder_variables, encoder_weights
from keras_bert.layers.fused_layer_norm import FusedLayerNorm
from keras_test_utils import run_serialization_test
from numpy_bert import bert_forward

CONFIG = BertConfig(
    vocab_size=23, hidden_size=8, num_layers=3, num_attention_heads=2, intermediate_size=12,
    max_position_embeddings=11, type_vocab_size=3, layer_norm_epsilon=1e-6,
)


def _inputs(batch=3, seq=7, seed=0):
    rng = np.random.default_rng(seed)
    mask = np.ones((batch, seq), "int32")
    mask[1, 4:] = 0
    mask[2, 2:] = 0
    return {
        "input_word_ids": (rng.integers(1, CONFIG.vocab_size, (batch, seq)) * mask).astype("int32"),
        "input_mask": mask,
        "input_type_ids": (rng.integers(0, 2, (batch, seq)) * mask).astype("int32"),
    }


def _randomized_encoder(**overrides):
    encoder = BertEncoder(**{**CONFIG.to_dict(), **overrides})
    rng = np.random.default_rng(1)
    for variable in encoder.weights:
        variable.assign(rng.normal(scale=0.3, size=variable.shape).astype("float32"))
    return encoder


def test_output_structure_and_shapes():
    outputs = BertEncoder.from_bert_config(CONFIG)(_inputs())
    assert set(outputs) == {"sequence_output", "pooled_output", "encoder_outputs"}
    assert tuple(outputs["sequence_output"].shape) == (3, 7, 8)
    assert tuple(outputs["pooled_output"].shape) == (3, 8)
    assert [tuple(x.shape) for x in outputs["encoder_outputs"]] == [(3, 7, 8)] * 3
    np.testing.assert_array_equal(outputs["encoder_outputs"][-1], outputs["sequence_output"])


@pytest.mark.parametrize("hidden_act", ["gelu", "gelu_tanh"])
def test_matches_numpy_reference(hidden_act):
    encoder = _randomized_encoder(hidden_act=hidden_act)
    weights = encoder_weights(encoder)
    inputs = _inputs()
    sequence, pooled, layers = bert_forward(
        weights, encoder.config, inputs["input_word_ids"], inputs["input_mask"], inputs["input_type_ids"]
    )
    outputs = encoder(inputs)
    mask = inputs["input_mask"].astype(bool)
    # Padded positions hold no meaning (and differ between masking styles).
    np.testing.assert_allclose(outputs["sequence_output"].numpy()[mask], sequence[mask], atol=1e-4)
    np.testing.assert_allclose(outputs["pooled_output"], pooled, atol=1e-4)
    for ours, reference in zip(outputs["encoder_outputs"], layers):
        np.testing.assert_allclose(ours.numpy()[mask], reference[mask], atol=1e-4)


def test_every_variable_has_a_google_name():
    encoder = BertEncoder.from_bert_config(CONFIG)
    table = encoder_variables(encoder)
    assert len(table) == len(encoder.weights) == 5 + 16 * CONFIG.num_layers + 2
    assert {id(v) for v in table.values()} == {id(v) for v in encoder.weights}


def test_any_length_up_to_max_positions_and_clear_error_beyond():
    encoder = BertEncoder.from_bert_config(CONFIG)
    for seq in (1, 11):
        assert encoder(_inputs(seq=seq))["sequence_output"].shape[1] == seq
    with pytest.raises(ValueError, match="Sequence length 12 exceeds max_position_embeddings=11"):
        encoder(_inputs(seq=12))

    dynamic = tf.function(
        encoder, input_signature=[{k: tf.TensorSpec([None, None], tf.int32) for k in _inputs()}]
    )
    with pytest.raises(tf.errors.InvalidArgumentError, match="exceeds max_position_embeddings=11"):
        dynamic(_inputs(seq=12))


def test_word_embeddings_reachable_for_tying():
    encoder = BertEncoder.from_bert_config(CONFIG)
    assert tuple(encoder.word_embeddings.shape) == (23, 8)
    assert encoder.word_embeddings is encoder.get_layer("embeddings").word_embeddings.embeddings


def test_keyword_and_config_construction_agree():
    assert BertEncoder(**CONFIG.to_dict()).config == BertEncoder.from_bert_config(CONFIG).config == CONFIG
    with pytest.raises(ValueError, match="hidden_size=8 is not divisible by num_attention_heads=3"):
        BertEncoder(**{**CONFIG.to_dict(), "num_attention_heads": 3})


@pytest.mark.parametrize("causal_attention", [False, True])
def test_serialization(causal_attention):
    encoder = _randomized_encoder(hidden_act="gelu_tanh", causal_attention=causal_attention)
    run_serialization_test(encoder, (_inputs(),))


def test_dtype_reaches_every_layer_and_round_trips_with_the_kernel_setting():
    encoder = _randomized_encoder(dtype="mixed_bfloat16", dense_inference_kernel="matmul")
    assert encoder.dtype_policy.name == "mixed_bfloat16"
    assert {layer.compute_dtype for layer in encoder.layers if not isinstance(layer, keras.layers.InputLayer)} == {
        "bfloat16"}
    outputs = encoder(_inputs())
    assert outputs["sequence_output"].dtype == "bfloat16"
    restored = run_serialization_test(encoder, (_inputs(),))
    assert (restored.dtype_policy.name, restored.dense_inference_kernel) == ("mixed_bfloat16", "matmul")
    # A float32 copy of the same weights: the bfloat16 encoder is a rendering of it.
    copy = BertEncoder.from_config({**encoder.get_config(), "dtype": "float32"})
    copy.set_weights(encoder.get_weights())
    np.testing.assert_allclose(np.asarray(outputs["sequence_output"], "float32"),
                               copy(_inputs())["sequence_output"], atol=0.1)


def test_layer_norm_kernel_setting_reaches_every_layer_norm_and_round_trips():
    encoder = _randomized_encoder(layer_norm_inference_kernel="keras")
    kernels = [layer.inference_kernel for layer in encoder._flatten_layers() if isinstance(layer, FusedLayerNorm)]
    assert kernels == ["keras"] * (1 + 2 * CONFIG.num_layers)  # the embeddings' and two per block
    restored = run_serialization_test(encoder, (_inputs(),))
    assert restored.layer_norm_inference_kernel == "keras"
    # Only the kernel differs: a graph with either computes the same.
    batch_norm = BertEncoder.from_config({**encoder.get_config(), "layer_norm_inference_kernel": "batch_norm"})
    batch_norm.set_weights(encoder.get_weights())
    np.testing.assert_allclose(tf.function(batch_norm)(_inputs())["sequence_output"],
                               tf.function(encoder)(_inputs())["sequence_output"], atol=1e-5)
    with pytest.raises(ValueError, match=r"layer_norm_inference_kernel='fast' is not supported; use one of "
                                         r"\['auto', 'batch_norm', 'keras'\]"):
        BertEncoder(**CONFIG.to_dict(), layer_norm_inference_kernel="fast")


def test_xla_forward_equals_eager():
    encoder = _randomized_encoder()
    inputs = _inputs()
    eager = encoder(inputs)
    compiled = tf.function(encoder, jit_compile=True)(inputs)
    for name in ("sequence_output", "pooled_output"):
        np.testing.assert_allclose(compiled[name], eager[name], atol=1e-5)


def test_follows_the_global_mixed_precision_policy():
    reference = _randomized_encoder()
    inputs = _inputs()
    expected = reference(inputs)
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        encoder = BertEncoder.from_bert_config(CONFIG)
    finally:
        keras.mixed_precision.set_global_policy("float32")
    encoder.set_weights(reference.get_weights())
    assert all(v.dtype == "float32" for v in encoder.weights)
    outputs = encoder(inputs)
    assert outputs["sequence_output"].dtype == tf.bfloat16
    # bfloat16 keeps 8 bits of mantissa: agreement to a few hundredths.
    np.testing.assert_allclose(
        tf.cast(outputs["pooled_output"], tf.float32), expected["pooled_output"], atol=0.1
    )


@pytest.mark.parametrize("jit_compile", [False, True])
def test_gradient_checkpointing_gives_the_same_loss_and_gradients(jit_compile):
    # Dropout on: the recomputed backward pass must redraw the same masks.
    inputs = _inputs()

    def loss_and_gradients(gradient_checkpointing):
        keras.utils.set_random_seed(7)  # the same dropout seeds for both encoders
        encoder = _randomized_encoder(hidden_dropout_prob=0.3, attention_probs_dropout_prob=0.3)
        encoder.gradient_checkpointing = gradient_checkpointing

        @tf.function(jit_compile=jit_compile)
        def step():
            with tf.GradientTape() as tape:
                outputs = encoder(inputs, training=True)
                loss = tf.reduce_sum(outputs["sequence_output"] ** 2) + tf.reduce_sum(outputs["pooled_output"])
            return loss, tape.gradient(loss, encoder.trainable_variables)

        return step()

    loss, gradients = loss_and_gradients(False)
    loss_checkpointed, gradients_checkpointed = loss_and_gradients(True)
    np.testing.assert_allclose(loss_checkpointed, loss, rtol=1e-6)
    for expected, actual in zip(gradients, gradients_checkpointed):
        np.testing.assert_allclose(tf.convert_to_tensor(actual), tf.convert_to_tensor(expected), rtol=1e-4, atol=1e-5)


def test_gradient_checkpointing_is_serialized_and_reaches_every_block():
    encoder = _randomized_encoder(gradient_checkpointing=True)
    blocks = [layer for layer in encoder.layers if layer.name.startswith("transformer_layer_")]
    assert len(blocks) == CONFIG.num_layers and all(block.gradient_checkpointing for block in blocks)
    run_serialization_test(encoder, (_inputs(),))
    encoder.gradient_checkpointing = False
    assert not any(block.gradient_checkpointing for block in blocks)


def test_every_weight_starts_from_its_own_random_draw():
    # An unseeded Keras 3 initializer repeats its values when shared: each kernel and table needs its own.
    encoder = BertEncoder(vocab_size=40, hidden_size=16, num_layers=2, num_attention_heads=2, intermediate_size=16,
                          max_position_embeddings=16)
    random = [w for w in encoder.weights if np.std(np.asarray(w)) > 0]  # not the zero biases and unit gammas
    assert len(random) == 3 + 2 * 6 + 1  # word, segment, position; 6 kernels a block; the pooler
    for i, a in enumerate(random):
        for b in random[i + 1:]:
            assert not np.array_equal(np.asarray(a).ravel()[:16], np.asarray(b).ravel()[:16]), (a.path, b.path)
