"""The weekly and monthly lägesbild pages: the workspace's header, the summary first,
long lists after it, collapsed."""

from __future__ import annotations

import re
from datetime import datetime

import pytest
from flask import Flask

from analysis.calendar import STOCKHOLM
from tests.support import factories
from tests.support.workspace import login, push


def at(day: str, hhmm: str) -> str:
    """Return a Stockholm wall-clock time as an ISO string."""
    return datetime.fromisoformat(f"{day}T{hhmm}:00").replace(tzinfo=STOCKHOLM).isoformat()


@pytest.mark.parametrize(
    ("kind", "due", "days"),
    [
        ("week", "2026-11-23", ("2026-11-17", "2026-11-18", "2026-11-20")),
        ("month", "2026-11-01", ("2026-10-05", "2026-10-12", "2026-10-20")),
    ],
)
def test_the_lagesbild_page_opens_with_the_summary_and_collapses_the_lists(
    app: Flask, kind: str, due: str, days: tuple[str, ...]
) -> None:
    org = factories.make_org("Staffanstorps kommun")
    who = factories.make_person(org)
    device = factories.make_device(org, kind="vaktare")
    client = app.test_client()
    push(
        client,
        device,
        *[
            factories.report(created_at=at(day, "22:00"), description=f"Klotter {n}")
            for n, day in enumerate(days)
        ],
        factories.report(created_at=at(days[0], "23:00"), category="brand", description="Brand"),
        factories.report(created_at=at(days[1], "21:00"), category="lugnt", description="Lugnt"),
    )
    assert login(client, who).status_code == 302
    resp = client.get(f"/workspace/lagesbild?kind={kind}&date={due}")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    # The workspace's header and navigation, this page marked as the digest's.
    assert '<nav class="main-nav"' in html
    assert re.search(r'<a[^>]+aria-current="page"[^>]*>\s*Morgonrapport', html)
    # The summary comes first: counts (calm rounds apart), changes, top places, action.
    summary = html.index('id="lagesbild-summary"')
    first_details = html.index("<details")
    assert summary < first_details
    head = html[summary:first_details]
    assert 'data-incidents="4"' in head and 'data-calm="1"' in head
    assert "Jämfört med tidigare" in head and "Återkommande platser" in head
    assert "Kräver åtgärd" in head and "Brand" in head
    # The long lists follow, collapsed: every incident by area, the comparison tables.
    incidents = html.index('<details id="lb-incidents">')
    assert html.index("Klotter 2") > incidents
    assert '<details id="lb-comparison">' in html and "<details open" not in html
    # And the printable document is one link away.
    assert f"/workspace/lagesbild/document?kind={kind}&amp;date={due}" in html
