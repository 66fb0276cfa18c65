"""Readers for the real data in ../shared/data, and the Hugging Face reference tokenizer."""

import csv

import pytest


def read_sst2(shared_data, split):
    with open(shared_data / f"glue/sst2/{split}.tsv", encoding="utf-8") as f:
        return [row["sentence"] for row in csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE)]


def read_mrpc_pairs(shared_data, split):
    with open(shared_data / f"glue/mrpc/{split}.tsv", encoding="utf-8-sig") as f:
        rows = list(csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE))[1:]
    return [(row[3], row[4]) for row in rows]


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
