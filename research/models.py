"""Research models."""
