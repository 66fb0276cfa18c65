import numpy as np

from keras_bert.layers import BertPooler
from keras_test_utils import run_serialization_test


def test_tanh_dense_of_first_token():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3, 7, 8)).astype("float32")
    pooler = BertPooler(hidden_size=5)
    pooler(x)
    kernel = rng.normal(size=(8, 5)).astype("float32")
    bias = rng.normal(size=(5,)).astype("float32")
    pooler.dense.kernel.assign(kernel)
    pooler.dense.bias.assign(bias)
    np.testing.assert_allclose(pooler(x), np.tanh(x[:, 0] @ kernel + bias), atol=1e-6)


def test_serialization():
    x = np.ones((3, 7, 8), "float32")
    pooler = BertPooler(hidden_size=8, initializer_range=0.1)
    pooler(x)
    run_serialization_test(pooler, (x,))
