"""`BertPretrainer` against `transformers`' BertForPreTraining."""

import numpy as np
import pytest

from keras_bert import BertEncoder, BertPretrainer, load_encoder, read_checkpoint
from keras_bert.checkpoints import load_head_weights
from keras_test_utils import pretraining_inputs, run_serialization_test


def _tiny_encoder(**kwargs):
    return BertEncoder(vocab_size=50, hidden_size=16, num_layers=2, num_attention_heads=2, intermediate_size=24,
                       max_position_embeddings=32, **kwargs)


def test_serialization_round_trip():
    pretrainer = BertPretrainer(_tiny_encoder())
    run_serialization_test(pretrainer, (pretraining_inputs(np.random.default_rng(0)),))


def test_heads_share_the_word_embeddings():
    encoder = _tiny_encoder()
    pretrainer = BertPretrainer(encoder)
    heads = {v.path for v in pretrainer.trainable_weights} - {v.path for v in encoder.trainable_weights}
    assert len(pretrainer.trainable_weights) == len(encoder.trainable_weights) + 7, heads
    assert not any("embeddings" in path for path in heads)


def test_logits_and_loss_match_transformers_bert_for_pretraining(tmp_path):
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    torch.manual_seed(0)
    reference = transformers.BertForPreTraining(transformers.BertConfig(
        vocab_size=50, hidden_size=16, num_hidden_layers=2, num_attention_heads=2, intermediate_size=24,
        max_position_embeddings=32, hidden_act="gelu",
    )).eval()
    with torch.no_grad():  # random head weights, so that a transpose or a mix-up shows
        for parameter in reference.cls.parameters():
            parameter.normal_(0, 0.5)
    reference.save_pretrained(str(tmp_path), safe_serialization=True)

    checkpoint = read_checkpoint(str(tmp_path))
    pretrainer = BertPretrainer(load_encoder(str(tmp_path)))
    load_head_weights(pretrainer, checkpoint.heads)
    rng = np.random.default_rng(2)
    inputs = pretraining_inputs(rng)
    ours = pretrainer(inputs, training=False)

    masked_ids = rng.integers(5, 50, inputs["masked_lm_positions"].shape)
    weights = np.ones(masked_ids.shape, "float32")
    weights[2, 2:] = 0  # padding slots: no loss
    nsp_labels = np.array([0, 1, 1])
    labels = np.full(inputs["input_word_ids"].shape, -100)
    for row, slot in zip(*np.nonzero(weights)):
        labels[row, inputs["masked_lm_positions"][row, slot]] = masked_ids[row, slot]
    with torch.no_grad():
        output = reference(
            input_ids=torch.tensor(inputs["input_word_ids"], dtype=torch.long),
            attention_mask=torch.tensor(inputs["input_mask"]),
            token_type_ids=torch.tensor(inputs["input_type_ids"], dtype=torch.long),
            labels=torch.tensor(labels), next_sentence_label=torch.tensor(nsp_labels),
        )
    expected_mlm = np.take_along_axis(
        output.prediction_logits.numpy(), inputs["masked_lm_positions"][:, :, None].astype(int), axis=1
    )
    np.testing.assert_allclose(np.asarray(ours["mlm"]), expected_mlm, atol=1e-4)
    np.testing.assert_allclose(np.asarray(ours["nsp"]), output.seq_relationship_logits.numpy(), atol=1e-5)

    # Positions are distinct in each row, so HF's per-token labels and our
    # per-slot weights describe the same predictions: the losses must agree.
    pretrainer.compile()
    results = pretrainer.evaluate(
        inputs, {"mlm": masked_ids, "nsp": nsp_labels}, sample_weight={"mlm": weights, "nsp": np.ones(3)},
        return_dict=True, verbose=0,
    )
    assert results["loss"] == pytest.approx(float(output.loss), abs=1e-4)
