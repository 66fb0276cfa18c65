"""Readers for the real data in ../shared/data, and the Hugging Face reference tokenizer."""

import csv
import json

import pytest


def read_sst2(shared_data, split):
    with open(shared_data / f"glue/sst2/{split}.tsv", encoding="utf-8") as f:
        return [row["sentence"] for row in csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE)]


def read_mrpc_pairs(shared_data, split, with_labels=False):
    """MRPC's `(sentence_1, sentence_2)` pairs, or `(sentence_1, sentence_2, label)` with `with_labels`."""
    with open(shared_data / f"glue/mrpc/{split}.tsv", encoding="utf-8-sig") as f:
        rows = list(csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE))[1:]
    return [(row[3], row[4], int(row[0])) if with_labels else (row[3], row[4]) for row in rows]


def read_wiki_paragraphs(shared_data, count):
    paragraphs = []
    for path in sorted((shared_data / "wiki").glob("wiki_*")):
        with open(path, encoding="utf-8") as f:
            for line in f:
                line = line.strip()
                if line and not line.startswith(("<doc", "</doc")):
                    paragraphs.append(line)
                    if len(paragraphs) == count:
                        return paragraphs
    return paragraphs


def hf_tokenizer(minilm_path):
    tokenizers = pytest.importorskip("tokenizers")
    tokenizer = tokenizers.Tokenizer.from_file(f"{minilm_path}/tokenizer.json")
    tokenizer.no_truncation()
    tokenizer.no_padding()
    return tokenizer


def squad_v2_slice(source, target, questions):
    """A SQuAD v2.0 file from the first `questions` questions of a v1.1 file: every other one is moved to a
    paragraph of another article, where it has no answer (is_impossible, as v2.0 marks it)."""
    articles = json.loads(source.read_text(encoding="utf-8"))["data"]
    picked = [(a, paragraph, qa) for a, article in enumerate(articles) for paragraph in article["paragraphs"]
              for qa in paragraph["qas"]][:questions]
    paragraphs = {}
    for i, (a, paragraph, qa) in enumerate(picked):
        if i % 2:
            others = articles[(a + 1) % len(articles)]["paragraphs"]
            paragraph = others[i % len(others)]
            qa = dict(qa, answers=[], is_impossible=True)
        paragraphs.setdefault(paragraph["context"], {"context": paragraph["context"], "qas": []})["qas"].append(qa)
    target.write_text(json.dumps({"version": "v2.0", "data": [{"title": "t", "paragraphs": list(paragraphs.values())}]}))
    return target


def conll_slice(source, target, sentences):
    """The first `sentences` sentences of a CoNLL-2003 file (after -DOCSTART-) written to `target`."""
    blocks = source.read_text(encoding="utf-8").split("\n\n")
    target.write_text("\n\n".join(blocks[1 : sentences + 1]) + "\n", encoding="utf-8")
    return target
