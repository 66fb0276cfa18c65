"""The transformers (torch) side of the fine-tuning comparison; needs only torch, transformers and numpy.

`finetune_vs_transformers.py` calls it in-process. It also runs alone, so
the SQuAD reference can train where TensorFlow is not installed (a GPU
box): windows made by keras_bert are saved with
`finetune_vs_transformers.py --task=squad --save_squad_windows=W.npz`,
trained on here, and the logits scored back with `--transformers_logits`:

    python benchmarks/torch_reference.py --windows=W.npz \
        --checkpoint=DIR_WITH_config.json_AND_model.safetensors \
        --learning_rates=5e-5,1e-4 --seeds=42,43 --device=cuda --output_dir=OUT

writes OUT/squad_logits_lr<LR>.npz with `start_<seed>` and `end_<seed>`
arrays of shape [windows, seq_length] (float32; padding positions -1e9).
"""

import math
import os
import time

import numpy as np

WINDOW_KEYS = ("input_word_ids", "input_mask", "input_type_ids")


def fine_tune(model, batches, num_examples, learning_rate, num_epochs, batch_size):
    """The reference recipe: AdamW (no decay on LayerNorm and biases), 10% warmup, linear decay, clip 1.0.

    `batches(epoch)` yields keyword arguments for `model(...)`, labels included.
    """
    for _ in fine_tune_steps(model, batches, num_examples, learning_rate, num_epochs, batch_size):
        pass


def reference_optimizer(model, learning_rate, total_steps, warmup_steps):
    """`(optimizer, schedule)`: AdamW (epsilon 1e-6, weight decay 0.01 except LayerNorm and biases), linear
    warmup over `warmup_steps`, then linear decay to 0 at `total_steps`."""
    import torch
    import transformers

    no_decay = ("bias", "LayerNorm.weight")
    groups = [
        {"params": [p for n, p in model.named_parameters() if not n.endswith(no_decay)], "weight_decay": 0.01},
        {"params": [p for n, p in model.named_parameters() if n.endswith(no_decay)], "weight_decay": 0.0},
    ]
    optimizer = torch.optim.AdamW(groups, lr=learning_rate, eps=1e-6)
    return optimizer, transformers.get_linear_schedule_with_warmup(optimizer, warmup_steps, total_steps)


def reference_update(model, optimizer, schedule, loss):
    """One update of the reference recipe from `loss`: backward, clip the global norm at 1.0, step."""
    import torch

    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    schedule.step()
    optimizer.zero_grad()


def fine_tune_steps(model, batches, num_examples, learning_rate, num_epochs, batch_size):
    """`fine_tune`, one step at a time: yields each step's loss (a float) after the update."""
    total = int(math.ceil(num_examples / batch_size) * num_epochs)
    optimizer, schedule = reference_optimizer(model, learning_rate, total, int(0.1 * total))
    step, epoch = 0, 0
    model.train()
    while step < total:
        epoch += 1
        for kwargs in batches(epoch):
            loss = model(**kwargs).loss
            reference_update(model, optimizer, schedule, loss)
            step += 1
            yield loss.item()
            if step == total:
                break
    model.eval()


def epoch_order(num_examples, seed, epoch):
    """A new seeded order every epoch (the same one on every side)."""
    return np.random.default_rng(seed + epoch).permutation(num_examples)


def squad_batches(train, seed, batch_size, epoch):
    """Yields epoch `epoch`'s training batches: (inputs, start_positions, end_positions), numpy.

    Inputs are WINDOW_KEYS arrays trimmed to the batch's longest row, as
    keras_bert trims; the last batch of an epoch may be short.
    """
    order = epoch_order(len(train["start_positions"]), seed, epoch)
    for begin in range(0, len(order), batch_size):
        rows = order[begin : begin + batch_size]
        length = int(train["input_mask"][rows].sum(axis=1).max())
        yield ({k: train[k][rows, :length] for k in WINDOW_KEYS}, train["start_positions"][rows],
               train["end_positions"][rows])


def squad_model(checkpoint, seed, device="cpu", **config):
    """BertForQuestionAnswering from `checkpoint`, its span head drawn after `torch.manual_seed(seed)`.

    `config`: overrides of the checkpoint's config, e.g. `hidden_dropout_prob=0.0`.
    """
    import torch
    import transformers

    torch.manual_seed(seed)
    return transformers.BertForQuestionAnswering.from_pretrained(checkpoint, **config).to(device)


def torch_inputs(inputs, device="cpu"):
    """keras_bert-named numpy inputs -> BertModel keyword arguments (int64 tensors)."""
    import torch

    take = {k: torch.tensor(np.asarray(inputs[k]).astype(np.int64), device=device) for k in WINDOW_KEYS}
    return dict(input_ids=take["input_word_ids"], attention_mask=take["input_mask"],
                token_type_ids=take["input_type_ids"])


def squad_train_batches(train, seed, batch_size, device="cpu"):
    """`squad_batches` as `fine_tune`'s `batches(epoch)`: keyword arguments with the labels."""
    import torch

    def batches(epoch):
        for inputs, starts, ends in squad_batches(train, seed, batch_size, epoch):
            yield dict(torch_inputs(inputs, device),
                       start_positions=torch.tensor(starts.astype(np.int64), device=device),
                       end_positions=torch.tensor(ends.astype(np.int64), device=device))

    return batches


def squad_predict(model, predict, device="cpu", batch_size=64):
    """Start and end logits of every `predict` window: two float32 arrays [windows, seq_length].

    Each batch is trimmed to its longest row; positions past it are -1e9.
    """
    import torch

    seq_length = predict["input_word_ids"].shape[1]
    starts, ends = [], []
    model.eval()
    with torch.no_grad():
        for begin in range(0, len(predict["input_word_ids"]), batch_size):
            rows = np.arange(begin, min(begin + batch_size, len(predict["input_word_ids"])))
            length = int(predict["input_mask"][rows].sum(axis=1).max())
            out = model(**torch_inputs({k: predict[k][rows, :length] for k in WINDOW_KEYS}, device))
            pad = [(0, 0), (0, seq_length - out.start_logits.shape[1])]
            starts.append(np.pad(out.start_logits.float().cpu().numpy(), pad, constant_values=-1e9))
            ends.append(np.pad(out.end_logits.float().cpu().numpy(), pad, constant_values=-1e9))
    return np.concatenate(starts), np.concatenate(ends)


def squad_fine_tune_and_predict(checkpoint, train, predict, learning_rate, num_epochs, batch_size, seed, device="cpu"):
    """Trains BertForQuestionAnswering on `train` windows; returns start and end logits for `predict`.

    `train`/`predict`: dicts of numpy arrays [windows, seq_length] under
    WINDOW_KEYS (train also `start_positions`, `end_positions` [windows]).
    Returns two float32 arrays [predict windows, seq_length], -1e9 past each
    batch's longest row.
    """
    model = squad_model(checkpoint, seed, device)
    fine_tune(model, squad_train_batches(train, seed, batch_size, device), len(train["start_positions"]),
              learning_rate, num_epochs, batch_size)
    return squad_predict(model, predict, device)


def save_squad_windows(path, train, predict):
    """Writes the arrays `main` reads (ids as int32, compressed)."""
    arrays = {f"train_{k}": train[k] for k in (*WINDOW_KEYS, "start_positions", "end_positions")}
    arrays.update({f"predict_{k}": predict[k] for k in WINDOW_KEYS})
    np.savez_compressed(path, **{k: np.asarray(v, np.int32) for k, v in arrays.items()})


def load_squad_windows(path):
    with np.load(path) as f:
        split = lambda prefix: {k[len(prefix):]: f[k] for k in f.files if k.startswith(prefix)}
        return split("train_"), split("predict_")


def main():
    from absl import app, flags

    flags.DEFINE_string("windows", None, "npz from finetune_vs_transformers.py --save_squad_windows.")
    flags.DEFINE_string("checkpoint", None, "Folder with a transformers BERT (config.json, model.safetensors).")
    flags.DEFINE_list("learning_rates", ["5e-5"], "")
    flags.DEFINE_list("seeds", ["42"], "")
    flags.DEFINE_float("num_train_epochs", 2.0, "")
    flags.DEFINE_integer("train_batch_size", 32, "")
    flags.DEFINE_string("device", "cpu", "torch device, e.g. cuda.")
    flags.DEFINE_string("output_dir", None, "")
    flags.mark_flags_as_required(["windows", "checkpoint", "output_dir"])
    FLAGS = flags.FLAGS

    def run(argv):
        del argv
        train, predict = load_squad_windows(FLAGS.windows)
        os.makedirs(FLAGS.output_dir, exist_ok=True)
        for lr in FLAGS.learning_rates:
            logits = {}
            for seed in FLAGS.seeds:
                start = time.time()
                logits[f"start_{seed}"], logits[f"end_{seed}"] = squad_fine_tune_and_predict(
                    FLAGS.checkpoint, train, predict, float(lr), FLAGS.num_train_epochs, FLAGS.train_batch_size,
                    int(seed), FLAGS.device)
                print(f"lr {lr} seed {seed}: trained and predicted in {time.time() - start:.0f} s", flush=True)
            np.savez_compressed(os.path.join(FLAGS.output_dir, f"squad_logits_lr{lr}.npz"), **logits)

    app.run(run)


if __name__ == "__main__":
    main()
