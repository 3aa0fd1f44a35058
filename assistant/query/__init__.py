"""The question before retrieval: follow-ups rewritten to stand alone, and
questions translated into the corpus's main language."""
