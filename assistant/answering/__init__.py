"""Answering from the retrieved sentences: prompts, the model's reply and its
citations, verification of every sentence, relevance and conflict checks."""
