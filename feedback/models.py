"""Feedback models."""
