"""A new deployment's first weeks: no "↑ ökning" from weeks before its first report.

The same steady four reports a night for two weeks, read by the trends page and by the
digest: both compare with the history there is (one week), not with zeros before it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from flask import Flask

from analysis.calendar import STOCKHOLM
from server.digest.content import build_digest
from server.digest.render import render
from tests.support import factories
from tests.support.workspace import login, push

PER_NIGHT = 4
DAY = date(2026, 11, 23)  # a Monday: the night, week digests of that morning
MORNING = datetime(2026, 11, 23, 6, 5, tzinfo=STOCKHOLM)


def evening(day: date, minute: int) -> str:
    """Return 22:mm local time on `day` as an ISO string."""
    return datetime.combine(day, time(22, minute), tzinfo=STOCKHOLM).isoformat()


def steady(client, device, last: date, nights: int = 14) -> None:
    """Push PER_NIGHT reports on each evening of the `nights` days up to `last`."""
    reports = [
        factories.report(
            created_at=evening(last - timedelta(days=back), n),
            category=("skadegorelse", "miljo", "samling", "otrygg_plats")[n],
            location={"lat": 55.60 + 0.01 * n, "lon": 13.20, "accuracy_m": 5.0},
        )
        for back in range(nights)
        for n in range(PER_NIGHT)
    ]
    push(client, device, *reports)


def test_the_trends_page_of_a_two_week_old_org_shows_no_increase(app: Flask) -> None:
    org = factories.make_org("Nystartad kommun")
    who = factories.make_person(org)
    device = factories.make_device(org)
    client = app.test_client()
    yesterday = datetime.now(UTC).astimezone(STOCKHOLM).date() - timedelta(days=1)
    steady(client, device, yesterday)
    assert login(client, who).status_code == 302
    for query in ("", "?step=week"):
        html = client.get("/workspace/trends" + query).get_data(as_text=True)
        assert "↑ upp" not in html, query
        assert "för lite historik" in html, query


def test_the_digest_of_a_two_week_old_org_shows_no_increase(app: Flask) -> None:
    org = factories.make_org("Nystartad kommun")
    device = factories.make_device(org)
    steady(app.test_client(), device, DAY - timedelta(days=1))
    night = build_digest(org.id, "night", DAY, now=MORNING)
    # One whole comparison night lies within the history (a week back); two weeks back
    # began before the first report.
    assert night.trends.totals == (PER_NIGHT, PER_NIGHT)
    assert night.trends.total_direction == "same"
    week = build_digest(org.id, "week", DAY, now=MORNING)
    assert week.trends.totals == (7 * PER_NIGHT, 7 * PER_NIGHT)
    for digest in (night, week):
        out = render(digest, base_url="https://lagesbild.example.se")
        assert "ökning" not in out.html and "ökning" not in out.text
        assert all(r.direction == "same" for r in digest.trends.by_category)


def test_a_deployment_without_a_whole_week_has_too_little_history(app: Flask) -> None:
    org = factories.make_org("Helt ny kommun")
    device = factories.make_device(org)
    steady(app.test_client(), device, DAY - timedelta(days=1), nights=5)
    week = build_digest(org.id, "week", DAY, now=MORNING)
    assert week.trends.totals == (5 * PER_NIGHT,)
    assert week.trends.total_direction == "new"
    out = render(week, base_url="https://lagesbild.example.se")
    assert "för lite historik" in out.text and "ökning" not in out.html
