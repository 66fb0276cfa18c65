"""Each private TensorFlow/Keras API in keras_bert.private_apis still exists and does its job.

A failure here names the API an upgrade moved or changed.
"""

import inspect

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_bert.private_apis as private_apis
from keras_bert.models.bert_task_model import BertTaskModel
from keras_bert.training.optimizer import BertAdamW


@pytest.mark.parametrize("name, parameters", sorted(private_apis.KERAS_OPTIMIZER_HOOKS.items()))
def test_keras_optimizer_hooks_exist_with_their_signatures(name, parameters):
    hook = getattr(keras.optimizers.AdamW, name)
    assert tuple(inspect.signature(hook).parameters) == parameters


@pytest.mark.parametrize("name, parameters", sorted(private_apis.KERAS_MODEL_HOOKS.items()))
def test_keras_model_hooks_exist_with_their_signatures(name, parameters):
    assert tuple(inspect.signature(getattr(keras.Model, name)).parameters) == parameters
    # and our override is the one Keras calls
    assert getattr(BertTaskModel, name) is not getattr(keras.Model, name)


@pytest.mark.parametrize("name, parameters", sorted(private_apis.KERAS_DENSE_HOOKS.items()))
def test_keras_dense_hooks_exist_with_their_signatures(name, parameters):
    assert tuple(inspect.signature(getattr(keras.layers.Dense, name)).parameters) == parameters


@pytest.mark.skipif(not private_apis.onednn_enabled(), reason="oneDNN's op")
def test_onednn_quantized_matmul_multiplies_int8_with_per_column_scales():
    x = tf.constant([[10, -20]], tf.int8)  # scale 2 / 127 from its range (-2, 2)
    kernel = tf.constant([[127, 0], [0, 127]], tf.int8)  # column scales 1 / 127 and 3 / 127

    def run():
        inputs = [tf.bitcast(x, tf.qint8), tf.bitcast(kernel, tf.qint8), tf.constant([0.5, 0.0]),
                  tf.constant(-2.0), tf.constant(2.0), tf.constant([-1.0, -3.0]), tf.constant([1.0, 3.0])]
        return private_apis.onednn_quantized_matmul(inputs, ["BiasAdd", "Dequantize"], tf.float32)

    # (10 * 2/127) * (127 * 1/127) + 0.5 and (-20 * 2/127) * (127 * 3/127)
    np.testing.assert_allclose(tf.function(run)(), [[20 / 127 + 0.5, -120 / 127]], rtol=1e-5)


def test_onednn_enabled_follows_the_build():
    assert isinstance(private_apis.onednn_enabled(), bool)


def test_variables_to_constants_folds_reads_and_keeps_values():
    variable = tf.Variable([1.0, 2.0])
    concrete = tf.function(lambda x: x * variable).get_concrete_function(tf.TensorSpec([2]))
    frozen = private_apis.variables_to_constants(concrete)
    ops = {op.type for op in frozen.graph.get_operations()}
    assert "ReadVariableOp" not in ops and "Const" in ops
    variable.assign([5.0, 5.0])
    np.testing.assert_array_equal(frozen(tf.constant([3.0, 3.0]))[0], [3.0, 6.0])


def test_read_saved_model_holds_every_function_of_the_graph(tmp_path):
    module = tf.Module()
    module.f = tf.function(lambda x: {"y": tf.math.cumsum(x)}, input_signature=[tf.TensorSpec([None])])
    tf.saved_model.save(module, str(tmp_path))
    (meta_graph,) = private_apis.read_saved_model(tmp_path).meta_graphs
    ops = {node.op for function in meta_graph.graph_def.library.function for node in function.node_def}
    assert "Cumsum" in ops and "serve" in meta_graph.meta_info_def.tags


def test_adam_slots_are_the_moments_an_update_writes():
    optimizer = keras.optimizers.AdamW(learning_rate=0.1, weight_decay=0.0)
    weights = keras.Variable([1.0, 1.0])
    optimizer.apply([np.array([3.0, -4.0], "float32")], [weights])
    momentum, velocity = private_apis.adam_slots(optimizer, weights)
    np.testing.assert_allclose(momentum.numpy(), [0.3, -0.4], rtol=1e-6)  # (1 - beta_1) * g
    np.testing.assert_allclose(velocity.numpy(), [0.009, 0.016], rtol=1e-5)  # (1 - beta_2) * g^2


def test_uses_weight_decay_applies_the_exclusions():
    optimizer = BertAdamW(weight_decay=0.1)
    optimizer.exclude_from_weight_decay(var_names=["bias"])
    assert not private_apis.uses_weight_decay(optimizer, keras.Variable([1.0], name="bias"))
    assert private_apis.uses_weight_decay(optimizer, keras.Variable([1.0], name="kernel"))


def test_model_distribute_strategy_is_the_creation_scope():
    assert private_apis.model_distribute_strategy(keras.Sequential([keras.layers.Dense(1)])) is None
    strategy = tf.distribute.MirroredStrategy(["/cpu:0"])
    with strategy.scope():
        model = keras.Sequential([keras.layers.Dense(1)])
    assert private_apis.model_distribute_strategy(model) is strategy
