"""Evaluation of the assistant: question sets, metrics and the runner."""
