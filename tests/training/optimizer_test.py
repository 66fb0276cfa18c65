import keras
import numpy as np
import pytest

from keras_bert.training import WarmupLinearDecay, create_optimizer


def test_schedule_equals_transformers_linear_schedule():
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    parameter = torch.nn.Parameter(torch.zeros(1))
    reference_optimizer = torch.optim.SGD([parameter], lr=3e-5)
    reference = transformers.get_linear_schedule_with_warmup(reference_optimizer, 7, 53)
    ours = WarmupLinearDecay(3e-5, total_steps=53, warmup_steps=7)
    for step in range(60):
        # float32 schedule vs float64 reference.
        assert float(ours(step)) == pytest.approx(reference.get_last_lr()[0], rel=1e-6, abs=1e-12), step
        reference_optimizer.step()
        reference.step()


def test_schedule_validates_and_serializes():
    with pytest.raises(ValueError, match="warmup_steps=20, total_steps=10"):
        WarmupLinearDecay(1e-4, total_steps=10, warmup_steps=20)
    schedule = WarmupLinearDecay(1e-4, 100, 10)
    revived = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(schedule))
    assert revived.get_config() == schedule.get_config()


def test_weight_decay_skips_layer_norm_and_biases():
    layer_norm = keras.layers.LayerNormalization()
    dense = keras.layers.Dense(3)
    model = keras.Sequential([keras.Input((4,)), dense, layer_norm])
    for variable in model.weights:
        variable.assign(np.full(variable.shape, 2.0, "float32"))
    optimizer = create_optimizer(1.0, total_steps=10, warmup_steps=0, weight_decay=0.1, clipnorm=None)
    zeros = [np.zeros(v.shape, "float32") for v in model.trainable_variables]
    optimizer.apply_gradients(zip(zeros, model.trainable_variables))
    # Zero gradients leave only decay: w -= lr * wd * w = 2 - 1.0 * 0.1 * 2.
    np.testing.assert_allclose(dense.kernel.numpy(), 1.8)
    for variable in (dense.bias, layer_norm.gamma, layer_norm.beta):
        np.testing.assert_allclose(variable.numpy(), 2.0)


def test_clipping_and_unknown_optimizer():
    optimizer = create_optimizer(1e-3, total_steps=10)
    assert optimizer.global_clipnorm == 1.0 and optimizer.beta_2 == 0.999
    assert isinstance(create_optimizer(1e-3, total_steps=10, optimizer="lamb"), keras.optimizers.Lamb)
    with pytest.raises(ValueError, match="optimizer='sgd' is not supported"):
        create_optimizer(1e-3, total_steps=10, optimizer="sgd")


def test_adamw_equals_torch_adamw_with_embeddings_schedule_and_clipping():
    """Embedding + dense model, 6 steps, warmup/decay, clipping and decay groups vs PyTorch."""
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    rng = np.random.default_rng(0)
    table, kernel = rng.normal(size=(20, 4)).astype("float32"), rng.normal(size=(4, 1)).astype("float32")
    batches = [(rng.integers(0, 20, (8, 3)), rng.normal(size=(8, 1)).astype("float32")) for _ in range(6)]

    embedding = keras.layers.Embedding(20, 4)
    dense = keras.layers.Dense(1)
    inputs = keras.Input((3,), dtype="int32")
    model = keras.Model(inputs, dense(keras.ops.mean(embedding(inputs), axis=1)))
    embedding.embeddings.assign(table)
    dense.kernel.assign(kernel)
    optimizer = create_optimizer(1e-2, total_steps=6, warmup_steps=2, weight_decay=0.1, clipnorm=0.5)
    model.compile(optimizer=optimizer, loss="mse")

    torch_table = torch.nn.Parameter(torch.tensor(table))
    torch_kernel = torch.nn.Parameter(torch.tensor(kernel))
    torch_bias = torch.nn.Parameter(torch.zeros(1))
    reference = torch.optim.AdamW(
        [{"params": [torch_table, torch_kernel], "weight_decay": 0.1}, {"params": [torch_bias], "weight_decay": 0.0}],
        lr=1e-2, eps=1e-6,
    )
    schedule = transformers.get_linear_schedule_with_warmup(reference, 2, 6)
    for ids, targets in batches:
        model.train_on_batch(ids, targets)
        prediction = torch_table[torch.tensor(ids)].mean(1) @ torch_kernel + torch_bias
        loss = ((prediction - torch.tensor(targets)) ** 2).mean()
        reference.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_([torch_table, torch_kernel, torch_bias], 0.5)
        reference.step()
        schedule.step()
    # Most rows are absent from some batch: a lazy (sparse) Adam would differ there.
    np.testing.assert_allclose(embedding.embeddings.numpy(), torch_table.detach().numpy(), atol=2e-6)
    np.testing.assert_allclose(dense.kernel.numpy(), torch_kernel.detach().numpy(), atol=2e-6)
    np.testing.assert_allclose(dense.bias.numpy(), torch_bias.detach().numpy(), atol=2e-6)


def test_clipping_folded_into_the_update_equals_clipping_first():
    """With one replica the clip scale is applied inside the fused update; a pre-clipped gradient must match it."""
    rng = np.random.default_rng(1)
    start = rng.normal(size=(5, 3)).astype("float32")
    gradients = [rng.normal(size=(5, 3)).astype("float32") * 4 for _ in range(3)]
    folded, clipped_first = keras.Variable(start), keras.Variable(start)
    folded_optimizer = create_optimizer(1e-2, total_steps=3, clipnorm=1.0)
    plain_optimizer = create_optimizer(1e-2, total_steps=3, clipnorm=None)
    for gradient in gradients:
        folded_optimizer.apply([gradient], [folded])
        plain_optimizer.apply([gradient / np.linalg.norm(gradient)], [clipped_first])
    np.testing.assert_allclose(folded.numpy(), clipped_first.numpy(), rtol=1e-6, atol=1e-7)
    # A non-finite gradient norm poisons the update, as Keras' own clipping does: never a silent skip.
    folded_optimizer.apply([np.full((5, 3), np.inf, "float32")], [folded])
    assert np.isnan(folded.numpy()).all()


def _lamb_reference(weights, gradients, learning_rates, decayed, weight_decay=0.01, clip=1.0,
                    beta_1=0.9, beta_2=0.999, epsilon=1e-6):
    """LAMB (You et al., 2019, Algorithm 2) in NumPy: Adam moments with bias correction, the decay added to the
    update, a per-layer trust ratio ||w|| / ||r||; gradients clipped to a global norm first."""
    weights = [w.astype("float64") for w in weights]
    m = [np.zeros_like(w) for w in weights]
    v = [np.zeros_like(w) for w in weights]
    for t, (step_gradients, lr) in enumerate(zip(gradients, learning_rates), start=1):
        norm = np.sqrt(sum(np.sum(g.astype("float64") ** 2) for g in step_gradients))
        scale = min(1.0, clip / norm)
        for i, g in enumerate(step_gradients):
            g = g * scale
            m[i] = beta_1 * m[i] + (1 - beta_1) * g
            v[i] = beta_2 * v[i] + (1 - beta_2) * g**2
            r = (m[i] / (1 - beta_1**t)) / (np.sqrt(v[i] / (1 - beta_2**t)) + epsilon)
            ratio = 1.0
            if decayed[i]:
                r = r + weight_decay * weights[i]
                w_norm, r_norm = np.linalg.norm(weights[i]), np.linalg.norm(r)
                ratio = w_norm / r_norm if w_norm > 0 and r_norm > 0 else 1.0
            weights[i] = weights[i] - lr * ratio * r
    return weights


def test_lamb_first_updates_equal_the_papers_formula():
    rng = np.random.default_rng(7)
    dense, layer_norm = keras.layers.Dense(3), keras.layers.LayerNormalization()
    model = keras.Sequential([keras.Input((4,)), dense, layer_norm])
    start = [rng.normal(size=w.shape).astype("float32") for w in model.trainable_variables]
    model.set_weights(start)
    optimizer = create_optimizer(0.05, total_steps=8, warmup_steps=2, weight_decay=0.01, optimizer="lamb")
    gradients = [[rng.normal(scale=2.0, size=w.shape).astype("float32") for w in start] for _ in range(4)]
    for step_gradients in gradients:
        optimizer.apply_gradients(zip(step_gradients, model.trainable_variables))
    schedule = WarmupLinearDecay(0.05, total_steps=8, warmup_steps=2)
    decayed = [v.name not in ("bias", "gamma", "beta") for v in model.trainable_variables]
    assert decayed == [True, False, False, False]  # the kernel only
    expected = _lamb_reference(start, gradients, [float(schedule(step)) for step in range(4)], decayed)
    for variable, value in zip(model.trainable_variables, expected):
        np.testing.assert_allclose(variable.numpy(), value, rtol=2e-5, atol=1e-6, err_msg=variable.name)


def test_lamb_fine_tuning_lowers_the_loss():
    from keras_bert.models import BertClassifier, BertEncoder

    keras.utils.set_random_seed(3)
    encoder = BertEncoder(vocab_size=30, hidden_size=16, num_layers=2, num_attention_heads=2, intermediate_size=32,
                          hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
    classifier = BertClassifier(encoder, num_classes=2, dropout=0.0)
    rng = np.random.default_rng(0)
    ids = rng.integers(5, 30, size=(32, 8)).astype("int32")
    labels = (ids[:, 1] > 17).astype("int32")  # learnable from one token
    inputs = {"input_word_ids": ids, "input_mask": np.ones_like(ids), "input_type_ids": np.zeros_like(ids)}
    classifier.compile(optimizer=create_optimizer(0.1, total_steps=40, warmup_steps=4, optimizer="lamb"),
                       loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    history = classifier.fit(inputs, labels, batch_size=32, epochs=40, verbose=0).history["loss"]
    assert history[-1] < 0.75 * history[0], history
