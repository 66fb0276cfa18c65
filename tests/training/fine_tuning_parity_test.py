"""Fine-tuning steps of keras_bert vs transformers' BertForQuestionAnswering (PyTorch).

Both start from all-MiniLM-L6-v2 with the same span head, see the same real
SQuAD windows in the same order and follow the same recipe (AdamW with
decay groups, warmup then linear decay, clipping at 1.0, mean of start and
end cross-entropy). Dropout is off on both sides, so the two runs should
agree to float round-off: any difference in the forward pass, the loss, the
gradients or the optimizer shows up in the weights after a few steps.
"""

import dataclasses

import keras
import numpy as np
import pytest

from keras_bert import BertEncoder, BertSpanLabeler, read_checkpoint
from keras_bert.checkpoints.bert_checkpoint import assign_weights
from keras_bert.data import read_squad, squad_features, trim_to_longest
from keras_bert.text import BertTokenizer
from keras_bert.training import compile_for_fine_tuning

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

STEPS, BATCH, LEARNING_RATE = 4, 4, 1e-4
INPUTS = ("input_word_ids", "input_mask", "input_type_ids")


@pytest.fixture(scope="module")
def windows(shared_data, minilm_path):
    """Real SQuAD training windows that hold their answer, in batches; one more batch to score.

    At seq 256 these contexts end inside the window, so every batch (trimmed
    to its longest row) holds padding, as real SQuAD batches do.
    """
    questions = read_squad(shared_data / "squad" / "dev.json")[:40]
    features = squad_features(questions, BertTokenizer(f"{minilm_path}/vocab.txt"), training=True,
                              seq_length=256, doc_stride=128, max_query_length=64)
    answered = np.flatnonzero(features["start_positions"] > 0)[: (STEPS + 1) * BATCH]
    assert len(answered) == (STEPS + 1) * BATCH
    batches = []
    for rows in np.split(answered, STEPS + 1):
        inputs = {k: np.asarray(trim_to_longest({n: features[n][rows] for n in INPUTS})[k]) for k in INPUTS}
        batches.append((inputs, {"start_logits": features["start_positions"][rows],
                                 "end_logits": features["end_positions"][rows]}))
    assert all((inputs["input_mask"] == 0).any() for inputs, _ in batches)
    return batches


def _torch_inputs(inputs):
    return dict(input_ids=torch.tensor(inputs["input_word_ids"], dtype=torch.long),
                attention_mask=torch.tensor(inputs["input_mask"], dtype=torch.long),
                token_type_ids=torch.tensor(inputs["input_type_ids"], dtype=torch.long))


def test_span_labeler_training_steps_equal_transformers(windows, minilm_path):
    checkpoint = read_checkpoint(minilm_path)
    config = dataclasses.replace(checkpoint.config, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
    encoder = BertEncoder.from_bert_config(config)
    assign_weights(encoder, checkpoint.weights, checkpoint.source)
    model = BertSpanLabeler(encoder)
    compile_for_fine_tuning(
        model,
        {name: keras.losses.SparseCategoricalCrossentropy(from_logits=True) for name in ("start_logits", "end_logits")},
        LEARNING_RATE, total_steps=STEPS, warmup_steps=1, loss_weights={"start_logits": 0.5, "end_logits": 0.5},
    )

    reference = transformers.BertForQuestionAnswering.from_pretrained(
        minilm_path, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
    head = model.get_layer("span_logits")
    head.kernel.assign(np.random.default_rng(0).normal(0, 0.02, head.kernel.shape).astype("float32"))
    with torch.no_grad():
        reference.qa_outputs.weight.copy_(torch.tensor(head.kernel.numpy().T))
        reference.qa_outputs.bias.zero_()
    no_decay = ("bias", "LayerNorm.weight")
    optimizer = torch.optim.AdamW(
        [{"params": [p for n, p in reference.named_parameters() if not n.endswith(no_decay)], "weight_decay": 0.01},
         {"params": [p for n, p in reference.named_parameters() if n.endswith(no_decay)], "weight_decay": 0.0}],
        lr=LEARNING_RATE, eps=1e-6)
    schedule = transformers.get_linear_schedule_with_warmup(optimizer, 1, STEPS)

    reference.train()
    for inputs, labels in windows[:STEPS]:
        ours = model.train_on_batch(inputs, labels, return_dict=True)["loss"]
        loss = reference(**_torch_inputs(inputs), start_positions=torch.tensor(labels["start_logits"], dtype=torch.long),
                         end_positions=torch.tensor(labels["end_logits"], dtype=torch.long)).loss
        assert ours == pytest.approx(loss.item(), abs=1e-5)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(reference.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        optimizer.zero_grad()

    # The weights moved (the steps did something) and moved the same way on both sides,
    # the [PAD] row included (transformers' padding_idx: it gets no gradient).
    word_embeddings = encoder.get_layer("embeddings").word_embeddings.embeddings.numpy()
    torch_embeddings = reference.bert.embeddings.word_embeddings.weight.detach().numpy()
    assert np.abs(word_embeddings - checkpoint.weights["bert/embeddings/word_embeddings"]).max() > 1e-4
    np.testing.assert_allclose(word_embeddings, torch_embeddings, atol=1e-6)
    held_out, _ = windows[STEPS]
    logits = model(held_out, training=False)
    reference.eval()
    with torch.no_grad():
        expected = reference(**_torch_inputs(held_out))
    real = held_out["input_mask"].astype(bool)
    np.testing.assert_allclose(np.asarray(logits["start_logits"])[real], expected.start_logits.numpy()[real], atol=1e-4)
    np.testing.assert_allclose(np.asarray(logits["end_logits"])[real], expected.end_logits.numpy()[real], atol=1e-4)
