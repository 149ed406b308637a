"""Workspace page: the incident list, filtered from the query string, 50 incidents a page.

Every page link carries the filter (the same query string the form sends) and the page
number; the filter form itself starts again at page 1. A page past the end is an empty
page with a link to the last one; a page number that is not a whole number from 1 is the
400 page.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from flask import Response, render_template, request, url_for
from flask_login import login_required

from server.incidents import queries
from server.workspace import bp
from server.workspace.filters import filter_options, parse_filter
from server.workspace.hooks import audit, render_error
from server.workspace.incident_views import row_view
from server.workspace.scoping import current_scope, scope_area_names
from sync.clock import utcnow

PAGE_SIZE = 50
# Incidents a filter may reach across all its pages (a window is at most 400 days).
MAX_ROWS = 10_000
MAX_PAGE = 1_000_000


class BadPage(ValueError):
    """The page number is not a whole number from 1."""


def parse_page(raw: str | None) -> int:
    """Read the page number (none: 1); raise BadPage for anything but 1, 2, 3…"""
    if raw is None or raw == "":
        return 1
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= MAX_PAGE:
        raise BadPage(raw)
    return int(raw)


@dataclass(frozen=True)
class Paging:
    """One page of a list: its number, and where it lies in the whole."""

    number: int
    size: int
    total: int

    @property
    def pages(self) -> int:
        """Return how many pages the list fills (at least one, even when empty)."""
        return max(1, -(-self.total // self.size))

    @property
    def offset(self) -> int:
        """Return the index of the page's first item."""
        return (self.number - 1) * self.size

    @property
    def first(self) -> int:
        """Return the 1-based position of the page's first item."""
        return self.offset + 1

    @property
    def last(self) -> int:
        """Return the 1-based position of the page's last item."""
        return min(self.offset + self.size, self.total)

    @property
    def beyond(self) -> bool:
        """Tell whether the page lies past the end of a list (asked for by hand)."""
        return self.number > self.pages


def page_url(query: str, number: int) -> str:
    """Return the list's address for a page with the same filter."""
    base = url_for("workspace.incident_list")
    return f"{base}?{query}&page={number}" if query else f"{base}?page={number}"


@bp.get("/incidents")
@login_required
def incident_list() -> Response | str:
    """Incidents with reports in a time window, filtered and sorted, one page at a time."""
    try:
        number = parse_page(request.args.get("page"))
    except BadPage:
        return render_error(400, "list.bad_page")
    scope = current_scope()
    parsed = parse_filter(request.args, scope, utcnow())
    # Calm rounds are presence, shown on the night view; a category filter can ask for them.
    # A page past the end starts past the list's end (or its limit): it comes back empty.
    offset = (number - 1) * PAGE_SIZE
    shown, found = queries.page_of_incidents(
        scope, replace(parsed.filter, hide_calm=True), offset, PAGE_SIZE, limit=MAX_ROWS
    )
    paging = Paging(number, PAGE_SIZE, min(found, MAX_ROWS))
    areas = scope_area_names(scope, labelled=False)
    html = render_template(
        "workspace/incidents.html",
        rows=[row_view(r, areas) for r in shown],
        paging=paging,
        page_links={
            "first": page_url(parsed.query, 1),
            "prev": page_url(parsed.query, number - 1),
            "next": page_url(parsed.query, number + 1),
            "last": page_url(parsed.query, paging.pages),
        },
        truncated=found > MAX_ROWS,
        calm_hidden=not parsed.filter.categories,
        limit=MAX_ROWS,
        window_start=parsed.filter.start,
        window_end=parsed.filter.end,
        **filter_options(scope, parsed),
    )
    audit("incidents.list", parsed.query if number == 1 else f"{parsed.query} page {number}")
    return html
