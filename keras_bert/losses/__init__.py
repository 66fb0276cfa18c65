"""Losses."""

from keras_bert.losses.global_mean_crossentropy import GlobalMeanSparseCrossentropy

__all__ = ["GlobalMeanSparseCrossentropy"]
