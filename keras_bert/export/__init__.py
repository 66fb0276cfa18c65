"""Export: SavedModels that take raw text, Hub-style preprocessor/encoder pairs, TFLite classifiers and ONNX files."""

from keras_bert.export.hub_export import export_hub_encoder, export_hub_preprocessor
from keras_bert.export.onnx_export import export_onnx
from keras_bert.export.saved_model_export import export_saved_model
from keras_bert.export.tf_serving_ops import TF_SERVING_TEXT_OPS, custom_ops, oldest_tf_serving
from keras_bert.export.tflite_export import export_tflite, load_tflite

__all__ = [
    "TF_SERVING_TEXT_OPS",
    "custom_ops",
    "export_hub_encoder",
    "export_hub_preprocessor",
    "export_onnx",
    "export_saved_model",
    "export_tflite",
    "load_tflite",
    "oldest_tf_serving",
]
