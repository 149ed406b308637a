"""A walk's observations are not night incidents: counted apart like calm rounds, never listed."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import Flask

from server.digest.content import build_digest
from server.digest.render import render
from server.geography.service import recurring_places
from tests.api.test_night_counts import DAY, MORNING, rep
from tests.support import factories
from tests.support.walks import make_walk
from tests.support.workspace import cheap_hashing, login, push  # noqa: F401

pytestmark = pytest.mark.usefixtures("cheap_hashing")


def test_walk_observations_stay_out_of_the_night_and_the_digest(app: Flask) -> None:
    kommun = factories.make_org("Kommunen")
    who = factories.make_person(kommun)
    guard = factories.make_device(kommun, kind="vaktare")
    walker = factories.make_device(kommun, kind="nattvandrare")
    walk = make_walk(kommun, on=DAY - timedelta(days=1))
    client = app.test_client()
    push(client, guard, rep("20:00", "skadegorelse", 0), rep("23:10", "brand", 1))
    # Four observations on the same corner, as a walk makes them at one stop.
    push(
        client,
        walker,
        *[
            rep(f"19:{10 + i}", code, 7, walk_id=walk.id, walk_stop=1, feeling="unsafe")
            for i, code in enumerate(
                ["vandring_belysning", "vandring_sikt", "vandring_klotter", "vandring_belysning"]
            )
        ],
    )

    digest = build_digest(kommun.id, "night", DAY, now=MORNING)
    html = render(digest, base_url="https://lagesbild.example.se").html
    assert (digest.incidents, digest.reports, digest.calm.calm_reports) == (2, 2, 0)
    assert "Belysning" not in html and "Skymd sikt" not in html
    assert [r.key for r in digest.trends.by_category if r.key.startswith("vandring_")] == []
    assert digest.trends.totals[0] == 2

    assert login(client, who).status_code == 302
    page = client.get(f"/workspace/?night={DAY.isoformat()}").get_data(as_text=True)
    cards = re.search(r'<section class="summary-cards"[^>]*>', page)
    assert cards is not None
    shown = dict(re.findall(r'data-(incidents|reports|calm)="(\d+)"', cards.group(0)))
    assert shown == {"incidents": "2", "reports": "2", "calm": "0"}
    assert page.count("data-incident=") == 2
    listed = client.get("/workspace/incidents?from=2026-11-18&to=2026-11-21").get_data(as_text=True)
    # Only the category filter names them; no incident of the list does.
    assert listed.count("Belysning") == listed.count(">Belysning</option>") == 1
    # Four notes at one corner are not a recurring place of deviations.
    assert recurring_places(kommun.id, now=MORNING) == []
