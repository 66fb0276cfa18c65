import numpy as np
import pytest

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


def test_last_real_token_for_left_to_right_models():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3, 7, 8)).astype("float32")
    mask = np.array([[1] * 7, [1] * 4 + [0] * 3, [1] + [0] * 6], "int32")
    pooler = BertPooler(hidden_size=5, pooled_token="last")
    pooler(x, padding_mask=mask)
    kernel, bias = pooler.dense.kernel.numpy(), pooler.dense.bias.numpy()
    last = x[[0, 1, 2], [6, 3, 0]]
    np.testing.assert_allclose(pooler(x, padding_mask=mask), np.tanh(last @ kernel + bias), atol=1e-6)
    with pytest.raises(ValueError, match="needs the padding_mask"):
        pooler(x)
    with pytest.raises(ValueError, match="'first' or 'last'"):
        BertPooler(hidden_size=5, pooled_token="middle")


def test_serialization():
    x = np.ones((3, 7, 8), "float32")
    pooler = BertPooler(hidden_size=8, initializer_range=0.1)
    pooler(x)
    run_serialization_test(pooler, (x,))
    run_serialization_test(BertPooler(hidden_size=8, pooled_token="last"), (x, np.ones((3, 7), "int32")))
