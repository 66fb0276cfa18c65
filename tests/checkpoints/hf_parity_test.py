"""all-MiniLM-L6-v2 through keras_bert vs `transformers`' BertModel in PyTorch.

The reference is an independent implementation: Hugging Face's own loader,
modules and tokenizer. Every comparison is on one padded batch of real
sentences and sentence pairs of varied length.
"""

import numpy as np
import pytest
import tensorflow as tf

from keras_bert import BertEncoder, load_encoder, read_checkpoint, save_tf1_checkpoint
from real_data import read_mrpc_pairs, read_sst2

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
tokenizers = pytest.importorskip("tokenizers")

TOLERANCE = 1e-4  # max abs, as the issue asks


def _real_texts(shared_data):
    """24 SST-2 dev sentences and 12 MRPC dev pairs, spread over their lengths."""
    sentences = sorted(read_sst2(shared_data, "dev"), key=len)
    singles = sentences[:: len(sentences) // 24][:24]
    pairs = read_mrpc_pairs(shared_data, "dev")[::30][:12]
    return singles + pairs


@pytest.fixture(scope="module")
def batch(shared_data, minilm_path):
    tokenizer = tokenizers.Tokenizer.from_file(f"{minilm_path}/tokenizer.json")
    tokenizer.no_truncation()
    tokenizer.enable_padding(pad_id=0)
    encodings = tokenizer.encode_batch(_real_texts(shared_data))
    inputs = {
        "input_word_ids": np.array([e.ids for e in encodings], "int32"),
        "input_mask": np.array([e.attention_mask for e in encodings], "int32"),
        "input_type_ids": np.array([e.type_ids for e in encodings], "int32"),
    }
    lengths = inputs["input_mask"].sum(1)
    assert len(lengths) == 36 and lengths.min() < 10 and lengths.max() > 50
    assert inputs["input_type_ids"].max() == 1
    return inputs


@pytest.fixture(scope="module")
def reference(batch, minilm_path):
    model = transformers.BertModel.from_pretrained(minilm_path).eval()
    with torch.no_grad():
        out = model(
            input_ids=torch.tensor(batch["input_word_ids"], dtype=torch.long),
            attention_mask=torch.tensor(batch["input_mask"], dtype=torch.long),
            token_type_ids=torch.tensor(batch["input_type_ids"], dtype=torch.long),
            output_hidden_states=True,
        )
    return {
        "sequence_output": out.last_hidden_state.numpy(),
        "pooled_output": out.pooler_output.numpy(),
        "encoder_outputs": [h.numpy() for h in out.hidden_states[1:]],
    }


@pytest.fixture(scope="module")
def encoder(minilm_path):
    return load_encoder(minilm_path)


def _assert_parity(outputs, reference, real):
    """`real`: bool `(batch, seq)`, True at real tokens."""
    # Every position, padding included, as the issue asks.
    for name in ("sequence_output", "pooled_output"):
        np.testing.assert_allclose(np.asarray(outputs[name]), reference[name], atol=TOLERANCE, rtol=0, err_msg=name)
    # Inner layers at real tokens (measured max 5.2e-6). At padding positions,
    # whose values nothing reads, the two drift apart up to 1.1e-4 in layers
    # 3-4 (measured) before the last layers bring them back under 4e-5.
    assert len(outputs["encoder_outputs"]) == len(reference["encoder_outputs"]) == 6
    for i, (ours, theirs) in enumerate(zip(outputs["encoder_outputs"], reference["encoder_outputs"])):
        np.testing.assert_allclose(np.asarray(ours)[real], theirs[real], atol=TOLERANCE, rtol=0, err_msg=f"layer {i}")


def test_load_encoder_matches_transformers(encoder, batch, reference):
    _assert_parity(encoder(batch), reference, batch["input_mask"] == 1)


def test_skip_padding_matches_transformers_at_real_tokens(batch, reference, minilm_path):
    # The exports' setting: only the real tokens' rows are computed (padding positions repeat one of them).
    outputs = BertEncoder.from_checkpoint(read_checkpoint(minilm_path), skip_padding=True)(batch)
    real = batch["input_mask"] == 1
    np.testing.assert_allclose(outputs["pooled_output"], reference["pooled_output"], atol=TOLERANCE, rtol=0)
    layers = zip([outputs["sequence_output"], *outputs["encoder_outputs"]],
                 [reference["sequence_output"], *reference["encoder_outputs"]])
    for i, (ours, theirs) in enumerate(layers):
        np.testing.assert_allclose(np.asarray(ours)[real], theirs[real], atol=TOLERANCE, rtol=0, err_msg=f"output {i}")


def test_parity_after_tf1_round_trip(encoder, batch, reference, tmp_path, minilm_path):
    save_tf1_checkpoint(encoder, tmp_path, vocab_file=f"{minilm_path}/vocab.txt")
    reloaded = load_encoder(tmp_path)
    assert reloaded.config == encoder.config
    _assert_parity(reloaded(batch), reference, batch["input_mask"] == 1)


def test_parity_after_keras_round_trip(encoder, batch, reference, tmp_path):
    encoder.save(tmp_path / "minilm.keras")
    _assert_parity(load_encoder(tmp_path / "minilm.keras")(batch), reference, batch["input_mask"] == 1)


def test_pytorch_bin_layout(batch, reference, tmp_path, minilm_path):
    model = transformers.BertModel.from_pretrained(minilm_path)
    model.config.to_json_file(tmp_path / "config.json")
    torch.save(model.state_dict(), tmp_path / "pytorch_model.bin")
    _assert_parity(load_encoder(tmp_path)(batch), reference, batch["input_mask"] == 1)


def test_xla_forward_equals_eager(encoder, batch):
    eager = encoder(batch)
    compiled = tf.function(encoder, jit_compile=True)(batch)
    real = batch["input_mask"] == 1
    np.testing.assert_allclose(compiled["pooled_output"], eager["pooled_output"], atol=1e-5, rtol=0)
    np.testing.assert_allclose(
        compiled["sequence_output"].numpy()[real], eager["sequence_output"].numpy()[real], atol=1e-5, rtol=0
    )


def test_pretraining_heads_are_read_in_google_names(tmp_path):
    config = transformers.BertConfig(
        vocab_size=23, hidden_size=8, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=12, max_position_embeddings=16,
    )
    torch.manual_seed(0)
    model = transformers.BertForPreTraining(config).eval()
    model.save_pretrained(tmp_path)
    checkpoint = read_checkpoint(tmp_path)
    state = {k: v.numpy() for k, v in model.state_dict().items()}
    heads = checkpoint.heads
    np.testing.assert_array_equal(
        heads["cls/predictions/transform/dense/kernel"], state["cls.predictions.transform.dense.weight"].T
    )
    np.testing.assert_array_equal(heads["cls/predictions/transform/LayerNorm/gamma"], state["cls.predictions.transform.LayerNorm.weight"])
    np.testing.assert_array_equal(heads["cls/predictions/output_bias"], state["cls.predictions.bias"])
    np.testing.assert_array_equal(heads["cls/seq_relationship/output_weights"], state["cls.seq_relationship.weight"])
    assert len(heads) == 7 and checkpoint.unused == []

    ids = np.array([[2, 5, 6, 3, 0]], "int32")
    inputs = {"input_word_ids": ids, "input_mask": (ids > 0).astype("int32"), "input_type_ids": np.zeros_like(ids)}
    with torch.no_grad():
        expected = model.bert(
            input_ids=torch.tensor(ids, dtype=torch.long),
            attention_mask=torch.tensor(inputs["input_mask"], dtype=torch.long),
        )
    outputs = load_encoder(tmp_path)(inputs)
    np.testing.assert_allclose(outputs["pooled_output"], expected.pooler_output.numpy(), atol=1e-5)


def test_causal_encoder_matches_transformers_decoder(tmp_path):
    # A left-to-right model (the paper's LTR ablation) is HF's BertModel with is_decoder=True.
    config = transformers.BertConfig(
        vocab_size=23, hidden_size=8, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=12, max_position_embeddings=16, is_decoder=True,
    )
    torch.manual_seed(0)
    model = transformers.BertModel(config).eval()
    model.save_pretrained(tmp_path)
    encoder = load_encoder(tmp_path)
    assert encoder.config.causal_attention

    ids = np.array([[2, 5, 6, 7, 3, 9, 3], [2, 11, 12, 3, 0, 0, 0]], "int32")
    mask = (ids > 0).astype("int32")
    inputs = {"input_word_ids": ids, "input_mask": mask, "input_type_ids": np.zeros_like(ids)}
    with torch.no_grad():
        expected = model(input_ids=torch.tensor(ids, dtype=torch.long),
                         attention_mask=torch.tensor(mask, dtype=torch.long))
        # HF pools [CLS]; a causal encoder of ours pools the last real token with the same dense layer.
        last = torch.tensor(mask.sum(1) - 1)
        last_hidden = expected.last_hidden_state[torch.arange(2), last]
        pooled = torch.tanh(model.pooler.dense(last_hidden)).numpy()
    outputs = encoder(inputs)
    real = mask == 1
    np.testing.assert_allclose(outputs["sequence_output"].numpy()[real], expected.last_hidden_state.numpy()[real],
                               atol=TOLERANCE, rtol=0)
    np.testing.assert_allclose(outputs["pooled_output"], pooled, atol=TOLERANCE, rtol=0)

    # And causal means causal: changing later tokens leaves earlier positions as they were.
    changed = dict(inputs, input_word_ids=np.where(np.arange(7) >= 4, 13, ids).astype("int32") * mask)
    np.testing.assert_allclose(encoder(changed)["sequence_output"].numpy()[:, :4],
                               outputs["sequence_output"].numpy()[:, :4], atol=1e-6)
