"""`Dropout`: Keras' dropout layer, drawn and applied by one XLA kernel."""

import keras
import tensorflow as tf

from keras_bert.layers.training_kernels import computing_dtype


@keras.saving.register_keras_serializable(package="keras_bert")
class Dropout(keras.layers.Dropout):
    """`keras.layers.Dropout` whose training call is two small XLA kernels.

    Keras draws a mask with TensorFlow's `stateless_dropout`: a uniform
    draw, a compare, a multiply and a select, each a pass over the input,
    and again for the gradient. Here one XLA-compiled kernel draws the mask
    (XLA's Philox) and applies it, and one applies it to the gradient, at
    about half Keras' time (reports/performance/kernels.md).

    It is also exact in half precision, where Keras' is not: Keras draws
    the uniform numbers in the input's dtype, and bfloat16 ones are
    multiples of 1/128, so `rate=0.1` drops 13/128 = 10.16% of the units;
    and it scales by `1 / (1 - rate)` rounded to bfloat16 (1.109 for
    1.111). Here the draw and the scaling are in float32, rounded once.
    The masks are XLA's Philox bits, so not Keras' for the same seed.
    Arguments, seeding and serialisation are `keras.layers.Dropout`'s; the
    same seed state gives the same mask (what gradient checkpointing's
    recomputation relies on).

    Args:
        rate: float in [0, 1). Share of units zeroed during training.
        noise_shape: optional shape of the mask, broadcast over the input
            (`None` entries take the input's size).
        seed: optional int.

    Call arguments:
        inputs: a float tensor of any shape.
        training: bool. Dropout applies only when true.

    Returns:
        A tensor of the input's shape: the input with each unit zeroed
        with probability `rate` and the rest scaled by `1 / (1 - rate)`
        when training, the input itself otherwise.

    Example:
    >>> import numpy as np
    >>> dropout = Dropout(0.5, seed=1)
    >>> x = np.ones((2, 4), "float32")
    >>> sorted(set(np.asarray(dropout(x, training=True)).ravel().tolist()))
    [0.0, 2.0]
    >>> bool(np.array_equal(dropout(x), x))
    True
    """

    def call(self, inputs, training=False):
        if not training or self.rate == 0:
            return inputs
        seed = self.seed_generator.next()
        if seed.dtype != tf.int32:  # as Keras casts its int64 seed state
            seed = tf.cast(tf.math.floormod(seed, tf.int32.max - 1), tf.int32)
        noise_shape = None if self.noise_shape is None else tuple(self.noise_shape)
        return _dropout(tf.convert_to_tensor(inputs), seed, noise_shape, float(self.rate))


def _dropout(x, seed, noise_shape, rate):
    @tf.custom_gradient
    def dropout(x):
        y, keep = _draw_and_apply(x, seed, noise_shape, rate)
        return y, lambda upstream: _apply(upstream, keep, rate)

    return dropout(x)


@tf.function(jit_compile=True)
def _draw_and_apply(x, seed, noise_shape, rate):
    shape = tf.shape(x)
    if noise_shape is not None:
        shape = [shape[i] if size is None else size for i, size in enumerate(noise_shape)]
    keep = tf.random.stateless_uniform(shape, seed=seed, alg="philox") >= rate
    return _apply(x, keep, rate), keep


@tf.function(jit_compile=True)
def _apply(x, keep, rate):
    scaled = tf.cast(x, computing_dtype(x)) * (1 / (1 - rate))
    return tf.where(keep, tf.cast(scaled, x.dtype), tf.zeros([], x.dtype))


def seed_states(*dropouts):
    """The seed-state variables of the given `Dropout` layers that draw masks (rate > 0), in order.

    Gradient checkpointing rewinds them before recomputing a forward pass,
    so the recomputed masks equal the first ones.

    Example:
    >>> [tuple(state.shape) for state in seed_states(Dropout(0.1), Dropout(0.0))]
    [(2,)]
    """
    return [layer.seed_generator.state for layer in dropouts if layer.rate > 0]
