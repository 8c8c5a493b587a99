"""Walk the URL resolver: every route the portal serves, with a concrete path for each.

Used by the permission matrix and the hostile-input tests so that a new endpoint is
covered the moment it is mounted, without anyone adding it to a list.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RoutePattern

PARAM = re.compile(r"<(?:(?P<conv>[a-z_]+):)?(?P<name>\w+)>")

# Values for parameters when no real object is registered for the route: they point at
# nothing, so the request must end in a clean 4xx (or a login redirect), never a 500.
FILLER = {"int": "987654", "slug": "no-such-thing", "str": "no-such-thing", "path": "no-such-thing", "uuid": None}


@dataclass(frozen=True)
class Route:
    template: str  # e.g. "tooling/documents/<int:pk>/"
    name: str  # "tooling:document-detail" or the bare route when unnamed
    params: tuple[tuple[str, str], ...]  # (name, converter)
    callback: Callable

    @property
    def is_api(self) -> bool:
        return self.template.startswith("api/")

    @property
    def is_admin(self) -> bool:
        return self.template.startswith("admin/")

    def path(self, values: dict | None = None) -> str:
        values = values or {}

        def sub(match: re.Match) -> str:
            name, conv = match["name"], match["conv"] or "str"
            if name in values:
                return str(values[name])
            if conv == "uuid":
                return "00000000-0000-4000-8000-000000000000"
            return FILLER.get(conv, "no-such-thing")

        return "/" + PARAM.sub(sub, self.template)


def _walk(resolver: URLResolver, prefix: str, namespace: str) -> Iterator[Route]:
    for entry in resolver.url_patterns:
        pattern = entry.pattern
        if not isinstance(pattern, RoutePattern):
            continue  # regex routes are only Django admin internals and static serving
        route = prefix + str(pattern)
        if isinstance(entry, URLResolver):
            ns = namespace
            if entry.namespace:
                ns = f"{namespace}{entry.namespace}:"
            yield from _walk(entry, route, ns)
        elif isinstance(entry, URLPattern):
            params = tuple((m["name"], m["conv"] or "str") for m in PARAM.finditer(route))
            name = f"{namespace}{entry.name}" if entry.name else route
            yield Route(template=route, name=name, params=params, callback=entry.callback)


def all_routes(*, include_admin: bool = False) -> list[Route]:
    routes = [r for r in _walk(get_resolver(), "", "") if include_admin or not r.is_admin]
    return sorted(routes, key=lambda r: r.template)
