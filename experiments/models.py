"""Experiments models."""
