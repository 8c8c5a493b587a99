"""Every table in the portal exports to CSV (issue #9: "any table in the portal exports to CSV").

portal.js puts a "Download CSV" link under each table in <main>, pointing at the same page with
`?format=csv&table=N`. TableCsvMiddleware answers it by letting the view render the page as usual
and converting its Nth table to CSV, so an export holds exactly what that reader may see (the
view's permissions and PII masking apply), in the same columns. List views paginate with
`paginate()`, which hands back every row (up to EXPORT_ROW_LIMIT) when a CSV is asked for, so a
paginated list exports whole. Views with their own CSV (the audit log) answer first and their
response is left alone.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

from django.core.paginator import Page, Paginator
from django.http import HttpResponse
from django.utils.text import slugify

from portal.csvexport import csv_response

EXPORT_ROW_LIMIT = 10_000


def wants_table_csv(request) -> bool:
    return request.method == "GET" and request.GET.get("format") == "csv"


def paginate(request, object_list, per_page: int) -> Page:
    """The requested page, or every row (capped) when the page's table is being exported."""
    if wants_table_csv(request):
        return Paginator(object_list, EXPORT_ROW_LIMIT).get_page(1)
    return Paginator(object_list, per_page).get_page(request.GET.get("page"))


class _TableParser(HTMLParser):
    """Rows of cell texts of every <table> inside <main>, in document order. A table nested in a
    cell is a table of its own; its text stays out of the outer cell."""

    SKIP = {"script", "style", "template"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tables: list[list[list[str]]] = []
        self._open: list[list] = []  # [table index, cell text parts or None], innermost last
        self._in_main = 0
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag == "main":
            self._in_main += 1
        elif tag in self.SKIP:
            self._skip += 1
        elif not self._in_main:
            return
        elif tag == "table":
            self.tables.append([])
            self._open.append([len(self.tables) - 1, None])
        elif not self._open:
            return
        elif tag == "tr":
            self.tables[self._open[-1][0]].append([])
        elif tag in ("td", "th"):
            self._open[-1][1] = []
        elif tag == "br" and self._open[-1][1] is not None:
            self._open[-1][1].append(" ")

    def handle_endtag(self, tag):
        if tag == "main":
            self._in_main = max(0, self._in_main - 1)
        elif tag in self.SKIP:
            self._skip = max(0, self._skip - 1)
        elif not self._open:
            return
        elif tag in ("td", "th") and self._open[-1][1] is not None:
            index, parts = self._open[-1]
            rows = self.tables[index]
            if not rows:
                rows.append([])
            rows[-1].append(re.sub(r"\s+", " ", "".join(parts)).strip())
            self._open[-1][1] = None
        elif tag == "table":
            self._open.pop()

    def handle_data(self, data):
        if self._open and self._open[-1][1] is not None and not self._skip:
            self._open[-1][1].append(data)


def tables_in_main(html: str) -> list[list[list[str]]]:
    parser = _TableParser()
    parser.feed(html)
    parser.close()
    return [[row for row in table if row] for table in parser.tables]


class TableCsvMiddleware:
    """`?format=csv&table=N` on any page: that page's Nth table as a CSV download."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not wants_table_csv(request) or response.status_code != 200 or response.streaming:
            return response
        if not response.get("Content-Type", "").startswith("text/html"):
            return response  # the view made its own export
        raw_index = request.GET.get("table", "0")
        if not raw_index.isdigit():
            return _bad_request(f"table must be a table number (0, 1, …), got {raw_index[:40]!r}.")
        index = int(raw_index)
        tables = tables_in_main(response.content.decode(response.charset or "utf-8", errors="replace"))
        if index >= len(tables):
            return _bad_request(f"This page has {len(tables)} table(s); there is no table number {index}.", 404)
        rows = tables[index] or [[]]
        name = slugify(request.path.strip("/").replace("/", "-")) or "home"
        suffix = f"-table-{index + 1}" if len(tables) > 1 else ""
        return csv_response(f"{name}{suffix}.csv", rows[0], rows[1:])


def _bad_request(message: str, status: int = 400) -> HttpResponse:
    return HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")
