"""The digest's "Ronder": per area, planned against completed, the misses by name."""

from __future__ import annotations

from datetime import date

from flask import Flask

from server.db import phase
from server.digest.content import build_digest
from server.digest.render import render
from server.extensions import db
from server.geography.models import Area
from tests.support import factories
from tests.support.rounds import BEFORE_CUTOFF, four_rounds, utc

DAY = date(2026, 5, 2)  # the night of Friday 1 May
SEVEN = utc(4, day=2)  # 06:00 local, the digest's slot and the cut-off


def _area(org_id: int) -> Area:
    square = [[[13.2, 55.6], [13.3, 55.6], [13.3, 55.7], [13.2, 55.7], [13.2, 55.6]]]
    area = Area(
        org_id=org_id,
        code="centrum",
        name="Centrum",
        geometry={"type": "Polygon", "coordinates": square},
    )
    db.session.add(area)
    db.session.commit()
    return area


def _digest(org_id: int, now=SEVEN):  # type: ignore[no-untyped-def]
    with phase("read"):
        return build_digest(org_id, "night", DAY, now=now)


def test_one_completed_incomplete_missed_and_not_synced_round(app: Flask) -> None:
    org = factories.make_org("Väktarbolaget", "vaktbolag")
    four_rounds(org.id, _area(org.id).id)
    digest = _digest(org.id)
    assert digest.rounds is not None and len(digest.rounds) == 1
    area = digest.rounds[0]
    assert (area.name, area.planned, area.completed, area.late) == ("Centrum", 4, 1, 0)
    assert [(m.round_name, m.missing) for m in area.incomplete] == [("Rond Hamnen", ("Tak",))]
    assert [(m.round_name, m.missing) for m in area.missed] == [("Rond Skolan", ("Förråd", "Gård"))]
    assert [m.round_name for m in area.not_synced] == ["Rond Torget"]
    assert area.flags == (("too_far", 1),)
    sv = render(digest, "sv", base_url="https://lagesbild.example.se")
    for body in (sv.html, sv.text):
        assert "RONDER" in body.upper()
        assert "Centrum" in body
        assert "1 planerade" not in body and "4 planerade · 1 klara · 0 sena" in body
        assert "Rond Hamnen" in body and "saknas: Tak" in body and "Taket var avspärrat." in body
        assert "Rond Skolan" in body and "saknas: Förråd, Gård" in body
        assert "Ej synkade" in body and "Rond Torget" in body
        assert "för långt bort 1" in body and "Källare: 1 skanningar" in body
    en = render(digest, "en", base_url="https://lagesbild.example.se")
    assert "Guard rounds" in en.html and "missing: Förråd, Gård" in en.text


def test_a_digest_built_before_the_cutoff_says_not_synced_too(app: Flask) -> None:
    org = factories.make_org()
    four_rounds(org.id)
    digest = _digest(org.id, now=BEFORE_CUTOFF)
    assert digest.rounds[0].name is None
    assert [m.round_name for m in digest.rounds[0].not_synced] == ["Rond Torget"]
    assert "Utan område" in render(digest, "sv", base_url="https://x.example").text


def test_no_rounds_no_section(app: Flask) -> None:
    org = factories.make_org()
    digest = _digest(org.id)
    assert digest.rounds is None
    rendered = render(digest, "sv", base_url="https://lagesbild.example.se")
    assert "Ronder" not in rendered.html and "RONDER" not in rendered.text
