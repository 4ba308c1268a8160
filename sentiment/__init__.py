"""Message scoring: the SentimentScore type, text cleaning and the scorers."""

from ticketpulse.sentiment.base import LABELS, Scorer, SentimentScore, label_for

__all__ = ["LABELS", "Scorer", "SentimentScore", "label_for"]
