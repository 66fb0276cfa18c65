"""Export: SavedModels that take raw text."""

from keras_bert.export.classifier_export import export_classifier

__all__ = ["export_classifier"]
