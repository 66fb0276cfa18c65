"""Losses."""

from keras_bert.losses.cosine_similarity import CosineSimilarityLoss
from keras_bert.losses.global_mean_crossentropy import GlobalMeanSparseCrossentropy
from keras_bert.losses.multiple_negatives_ranking import MultipleNegativesRankingLoss

__all__ = ["CosineSimilarityLoss", "GlobalMeanSparseCrossentropy", "MultipleNegativesRankingLoss"]
