"""The incident list in pages of 50: filters kept on every page link, a total, bad pages."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html import unescape

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Result, event, select
from sqlalchemy.orm import ORMExecuteState

from server.extensions import db
from server.incidents import queries
from server.incidents.models import Incident
from server.orgs.models import Organisation
from tests.support import factories
from tests.support.workspace import (  # noqa: F401  (cheap_hashing is a fixture)
    cheap_hashing,
    login,
    push,
)

pytestmark = pytest.mark.usefixtures("cheap_hashing")

LIST = "/workspace/incidents"
ROW = re.compile(r'<tr class="[^"]*" data-incident="([0-9a-f-]+)"')
LIGHTS = 55  # dark street lights, each its own incident (a kilometre apart)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A coordinator of an organisation with 55 environment incidents and 3 vandalisms."""
    org = factories.make_org("Mjölby kommun")
    who = factories.make_person(org)
    dev = factories.make_device(org)
    reports = [
        factories.night_report(
            18 + (i % 6),
            i % 60,
            category="miljo" if i < LIGHTS else "skadegorelse",
            location={"lat": 58.0 + i * 0.01, "lon": 15.0, "accuracy_m": 10.0},
            place=f"Lyktstolpe {i}",
            description="Släckt belysning.",
        )
        for i in range(LIGHTS + 3)
    ]
    client = app.test_client()
    push(client, dev, *reports)
    login(client, who)
    return client


def _page(client: FlaskClient, query: str) -> tuple[int, str]:
    """GET the list with a query; return the status and the page text."""
    resp = client.get(f"{LIST}?{query}")
    return resp.status_code, resp.get_data(as_text=True)


def _links(html: str) -> dict[str, str]:
    """Return the pager's links by their rel (prev, next, first, last)."""
    found = {}
    for rel, href in re.findall(r'<a[^>]*rel="(\w+)"[^>]*href="([^"]+)"', html):
        found[rel] = unescape(href)
    for href, rel in re.findall(r'<a[^>]*href="([^"]+)"[^>]*rel="(\w+)"', html):
        found[rel] = unescape(href)
    return found


def test_fifty_a_page_with_the_filter_kept(client: FlaskClient) -> None:
    status, first = _page(client, "category=miljo&sort=time")
    assert status == 200
    assert len(ROW.findall(first)) == 50
    assert "1–50 av 55 händelser" in first
    links = _links(first)
    assert "prev" not in links
    nxt = links["next"]
    assert "category=miljo" in nxt and "sort=time" in nxt and "page=2" in nxt

    second = client.get(nxt).get_data(as_text=True)
    rows = ROW.findall(second)
    assert len(rows) == 5
    assert not set(rows) & set(ROW.findall(first))  # no incident on two pages
    assert "51–55 av 55 händelser" in second
    assert "Skadegörelse" not in "".join(re.findall(r"<tbody>.*?</tbody>", second, re.S))
    back = _links(second)
    assert "next" not in back and "category=miljo" in back["prev"] and "page=1" in back["prev"]


def test_every_incident_once_across_the_pages(client: FlaskClient) -> None:
    _, first = _page(client, "")
    _, second = _page(client, "page=2")
    ids = ROW.findall(first) + ROW.findall(second)
    assert len(ids) == len(set(ids)) == LIGHTS + 3


def test_a_page_past_the_end_is_empty_with_a_way_back(client: FlaskClient) -> None:
    status, html = _page(client, "category=miljo&page=9")
    assert status == 200
    assert ROW.findall(html) == []
    assert "Sidan finns inte" in html
    back = _links(html)["last"]
    assert "page=2" in back and "category=miljo" in back


@pytest.mark.parametrize("bad", ["0", "-1", "abc", "1.5", "9" * 30, "", " 2"])
def test_a_bad_page_number_is_a_400_not_a_500(client: FlaskClient, bad: str) -> None:
    status, html = _page(client, f"page={bad}")
    if bad == "":
        assert status == 200  # no page asked for: the first
    else:
        assert status == 400, bad
        assert "Sidnumret" in html


def test_a_page_loads_only_its_own_incidents_in_full(client: FlaskClient) -> None:
    loaded: list[str] = []

    def count(target: Incident, _context: object) -> None:
        loaded.append(str(target.id))

    # Nothing left over from the pushes: every incident the request reads is built anew.
    db.session.expunge_all()
    event.listen(Incident, "load", count)
    try:
        status, html = _page(client, "sort=severity&page=2")
    finally:
        event.remove(Incident, "load", count)
    assert status == 200
    shown = ROW.findall(html)
    assert len(shown) == LIGHTS + 3 - 50
    assert sorted(loaded) == sorted(shown)


@pytest.mark.parametrize("sort", queries.SORTS)
@pytest.mark.parametrize("kinds", [(), ("vaktare",)])
def test_a_page_is_the_same_slice_of_the_whole_list(
    client: FlaskClient, sort: str, kinds: tuple[str, ...]
) -> None:
    org_id = db.session.scalar(select(Organisation.id).where(Organisation.name == "Mjölby kommun"))
    now = datetime.now(UTC)
    f = queries.IncidentFilter(
        start=now - timedelta(days=2), end=now, sort=sort, device_kinds=kinds, hide_calm=True
    )
    whole = queries.list_incidents(org_id, f, limit=40)
    assert len(whole) == 40
    for offset, size in [(0, 50), (0, 7), (35, 7), (40, 7), (90, 50)]:
        page, found = queries.page_of_incidents(org_id, f, offset, size, limit=40)
        assert found == LIGHTS + 3
        expected = whole[offset : offset + size]
        assert [(r.incident.id, r.reports_in_window, r.kinds) for r in page] == [
            (r.incident.id, r.reports_in_window, r.kinds) for r in expected
        ]


def test_the_window_is_counted_per_incident_by_the_database(app: Flask) -> None:
    org = factories.make_org("Boxholms kommun")
    dev = factories.make_device(org)
    station = {"lat": 58.2, "lon": 15.05, "accuracy_m": 10.0}
    push(
        app.test_client(),
        dev,
        # Three reports of one incident (the same spot, minutes apart) and one of another.
        *[
            factories.night_report(22, m, category="skadegorelse", location=station, place="Stn")
            for m in (0, 5, 10)
        ],
        factories.night_report(23, 0, category="miljo", location={**station, "lat": 58.4}),
    )
    fetched: list[int] = []

    def count_rows(state: ORMExecuteState) -> Result[object]:
        frozen = state.invoke_statement().freeze()
        fetched.append(len(frozen.data))
        return frozen()

    now = datetime.now(UTC)
    session = db.session()
    event.listen(session, "do_orm_execute", count_rows)
    try:
        counts = queries.incident_ids_in_window(org.id, now - timedelta(days=2), now)
    finally:
        event.remove(session, "do_orm_execute", count_rows)
    assert sorted(counts.values()) == [1, 3]
    # One row per incident, not one per report: the map's week is thousands of reports.
    assert fetched == [2]


@pytest.mark.parametrize("columns", [(), (Incident.id, Incident.first_at)])
def test_a_lazy_page_is_the_page_read_a_chunk_at_a_time(
    client: FlaskClient, columns: tuple[object, ...]
) -> None:
    org_id = db.session.scalar(select(Organisation.id).where(Organisation.name == "Mjölby kommun"))
    now = datetime.now(UTC)
    f = queries.IncidentFilter(start=now - timedelta(days=2), end=now, sort="severity")
    page, found = queries.page_of_incidents(org_id, f, 3, 50, limit=50, columns=columns)
    reads: list[int] = []

    def count(_state: ORMExecuteState) -> None:
        reads.append(1)

    session = db.session()
    event.listen(session, "do_orm_execute", count)
    try:
        rows, lazy_found = queries.lazy_page_of_incidents(
            org_id, f, 3, 50, limit=50, columns=columns, chunk=7
        )
        chosen = len(reads)  # the window's counts and the page's keys
        first = next(rows)
        after_first = len(reads)
        lazy = [first, *rows]
    finally:
        event.remove(session, "do_orm_execute", count)
    assert lazy_found == found == LIGHTS + 3
    assert [(r.incident.id, r.reports_in_window, r.kinds) for r in lazy] == [
        (r.incident.id, r.reports_in_window, r.kinds) for r in page
    ]
    assert len(lazy) == 47
    assert after_first == chosen + 1  # one chunk read for the first row
    assert len(reads) == chosen + 7  # 47 rows in chunks of 7
