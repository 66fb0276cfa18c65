"""Entity-level precision, recall and F1 by the CoNLL rules (conlleval, seqeval's default)."""


def entities(tags):
    """The `(type, start, end)` chunks of one IOB tag sequence, `end` exclusive.

    As conlleval reads them: a chunk starts at `B-X`, or at `I-X` that follows
    `O` or a different type; it ends before `O`, `B-*` or a change of type.

    Example:
    >>> entities(["B-PER", "I-PER", "O", "I-LOC", "B-LOC", "I-ORG"])
    [('PER', 0, 2), ('LOC', 3, 4), ('LOC', 4, 5), ('ORG', 5, 6)]
    """
    chunks, start, current = [], None, None
    for i, tag in enumerate(list(tags) + ["O"]):
        prefix, kind = (tag.split("-", 1) + [""])[:2] if tag != "O" else ("O", "")
        begins = prefix == "B" or (prefix == "I" and kind != current)
        if current is not None and (prefix in ("O", "B") or kind != current):
            chunks.append((current, start, i))
            current = None
        if prefix != "O" and (begins or current is None):
            start, current = i, kind
    return chunks


def conll_scores(true_tags, predicted_tags):
    """Micro precision, recall and F1 over exactly matching entities.

    Args:
        true_tags, predicted_tags: lists of sentences, each a list of tags.

    Returns:
        `{"precision": p, "recall": r, "f1": f}` (0.0 where undefined).

    Example:
    >>> conll_scores([["B-PER", "I-PER", "O"]], [["B-PER", "O", "O"]])
    {'precision': 0.0, 'recall': 0.0, 'f1': 0.0}
    """
    if len(true_tags) != len(predicted_tags):
        raise ValueError(f"{len(true_tags)} true vs {len(predicted_tags)} predicted sentences.")
    true, predicted = set(), set()
    for s, (gold, guess) in enumerate(zip(true_tags, predicted_tags)):
        if len(gold) != len(guess):
            raise ValueError(f"Sentence {s}: {len(gold)} true vs {len(guess)} predicted tags.")
        true.update((s,) + chunk for chunk in entities(gold))
        predicted.update((s,) + chunk for chunk in entities(guess))
    correct = len(true & predicted)
    precision = correct / len(predicted) if predicted else 0.0
    recall = correct / len(true) if true else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}
