"""Export: SavedModels that take raw text, Hub-style preprocessor/encoder pairs, and TFLite classifiers."""

from keras_bert.export.hub_export import export_hub_encoder, export_hub_preprocessor
from keras_bert.export.saved_model_export import export_saved_model
from keras_bert.export.tflite_export import export_tflite, load_tflite

__all__ = ["export_hub_encoder", "export_hub_preprocessor", "export_saved_model", "export_tflite", "load_tflite"]
