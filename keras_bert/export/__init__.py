"""Export: SavedModels that take raw text, and Hub-style preprocessor/encoder pairs."""

from keras_bert.export.hub_export import export_hub_encoder, export_hub_preprocessor
from keras_bert.export.saved_model_export import export_saved_model

__all__ = ["export_hub_encoder", "export_hub_preprocessor", "export_saved_model"]
