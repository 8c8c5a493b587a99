"""Tooling models."""
