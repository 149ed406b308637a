"""The night view and the morning digest count the same night the same way.

One scene — own reports, another organisation's shared ones, calm rounds of both, reports
just outside the night — read by the night view and by the digest of that morning.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from flask import Flask

from analysis.calendar import STOCKHOLM
from server.digest.content import build_digest
from server.digest.render import render
from server.sharing import service as sharing
from tests.support import factories
from tests.support.workspace import login, push

DAY = date(2026, 11, 20)
MORNING = datetime(2026, 11, 20, 6, 5, tzinfo=STOCKHOLM)


def at(hhmm: str) -> str:
    """Return a time of the night ending on DAY (evening hours belong to the day before)."""
    hour, minute = (int(x) for x in hhmm.split(":"))
    day = DAY - timedelta(days=1) if hour >= 12 else DAY
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=STOCKHOLM).isoformat()


def rep(hhmm: str, category: str, n: int, **extra) -> dict:
    """Build a report at a time of the night, about a kilometre from report n + 1."""
    location = {"lat": 55.60 + 0.01 * n, "lon": 13.20, "accuracy_m": 5.0}
    return factories.report(created_at=at(hhmm), category=category, location=location, **extra)


def test_the_night_view_counts_the_night_as_the_digest_does(app: Flask) -> None:
    kommun = factories.make_org("Kommunen")
    bolaget = factories.make_org("Bostadsbolaget")
    who = factories.make_person(kommun)
    guard = factories.make_device(kommun, kind="vaktare")
    walker = factories.make_device(kommun, kind="nattvandrare")
    their = factories.make_device(bolaget, kind="vaktare")
    sharing.share(bolaget, kommun, "full")
    client = app.test_client()
    push(
        client,
        guard,
        rep("17:59", "skadegorelse", 9),  # the evening before the night
        rep("20:00", "skadegorelse", 0),
        rep("20:30", "skadegorelse", 0),  # the same bus shelter again: one incident
        rep("23:10", "brand", 1),
        rep("01:00", "miljo", 2, severity=1),
    )
    push(client, walker, rep("22:00", "lugnt", 3), rep("03:00", "lugnt", 4))
    push(client, guard, rep("06:00", "skadegorelse", 8))  # the next night's
    push(client, their, rep("21:00", "samling", 5), rep("02:00", "lugnt", 6))

    digest = build_digest(kommun.id, "night", DAY, now=MORNING)
    html = render(digest, base_url="https://lagesbild.example.se").html
    assert login(client, who).status_code == 302
    page = client.get(f"/workspace/?night={DAY.isoformat()}").get_data(as_text=True)

    cards = re.search(r'<section class="summary-cards"[^>]*>', page)
    assert cards is not None
    shown = dict(re.findall(r'data-(incidents|reports|action|calm)="(\d+)"', cards.group(0)))
    counted = {
        "incidents": str(digest.incidents),
        "reports": str(digest.reports),
        "action": str(digest.action_total),
        "calm": str(digest.calm.calm_reports),
    }
    assert shown == counted
    # Shelter, fire, lamp and the shared gathering; three calm rounds, one of them shared.
    assert counted == {"incidents": "4", "reports": "5", "action": "1", "calm": "3"}
    line = "4 händelser (5 rapporter) · 3 lugna pass."
    assert line in page and line in html
    # The table lists the incidents, not the calm rounds.
    assert page.count("data-incident=") == 4
