"""Onboarding models."""
