"""Demo data for tooling (seed_demo): standard templates for every kind."""

from __future__ import annotations

from tooling.standard_templates import install


def seed(org, *, small: bool = False) -> str:
    templates = install(by=org.users.get("ops"))
    return f"{len(templates)} templates"
