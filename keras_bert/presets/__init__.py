"""Released BERT checkpoints by name: the registry, the download cache, and each checkpoint's casing."""

from keras_bert.presets.cache import CacheError, cache_home
from keras_bert.presets.casing import checkpoint_lower_case, resolve_lower_case, vocab_lower_case
from keras_bert.presets.default_weights import default_checkpoint_path, default_vocab_file
from keras_bert.presets.registry import Preset, get_preset, list_presets, preset_table, update_preset_tables
from keras_bert.presets.resolve import checkpoint_directory, checkpoint_path, checkpoint_vocab_file

__all__ = [
    "CacheError",
    "Preset",
    "cache_home",
    "checkpoint_lower_case",
    "checkpoint_directory",
    "checkpoint_path",
    "checkpoint_vocab_file",
    "default_checkpoint_path",
    "default_vocab_file",
    "get_preset",
    "list_presets",
    "preset_table",
    "resolve_lower_case",
    "update_preset_tables",
    "vocab_lower_case",
]
