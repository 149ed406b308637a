"""Förfallna åtgärder in the morning digest: the overdue ones only, counted; nothing when none."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from flask import Flask
from sqlalchemy import update

from server.actions import service as actions
from server.actions.models import Action
from server.actions.schemas import action_in, status_in
from server.audit.service import CLI
from server.db import phase
from server.digest.content import build_digest
from server.digest.content.overdue import OVERDUE_LIMIT
from server.digest.render import render
from server.extensions import db
from tests.support import factories

DAY = date(2026, 12, 7)


def _action(org_id: int, text: str, due: date | None, status: str = "foreslagen") -> int:
    """Create an action due on a day, moved to a status along the workflow."""
    number = actions.create(
        org_id,
        action_in(text, "kommun", "Gatukontoret", due_date=due.isoformat() if due else ""),
        CLI,
    ).id
    path = ["beslutad", "pagar", "klar"]
    for step in path[: path.index(status) + 1] if status in path else []:
        extra = {"done_date": DAY.isoformat()} if step == "klar" else {}
        actions.set_status(org_id, number, status_in(step, **extra), CLI)
    if status == "avslagen":
        actions.set_status(org_id, number, status_in("avslagen", reason="Nej"), CLI)
    return number


def _digest(org_id: int):  # type: ignore[no-untyped-def]
    """Build the night digest of DAY."""
    with phase("read"):
        return build_digest(org_id, "night", DAY)


def test_an_overdue_action_appears_in_the_next_digest(app: Flask) -> None:
    org = factories.make_org()
    _action(org.id, "Byt trasig lampa på gångvägen", DAY - timedelta(days=1), "beslutad")
    _action(org.id, "Måla över klottret", DAY + timedelta(days=3))
    _action(org.id, "Due today: not overdue yet", DAY)
    _action(org.id, "Klar i tid", DAY - timedelta(days=5), "klar")
    _action(org.id, "Avslagen", DAY - timedelta(days=5), "avslagen")
    digest = _digest(org.id)
    assert digest.overdue_actions is not None
    assert digest.overdue_actions.total == 1
    assert [a.text for a in digest.overdue_actions.items] == ["Byt trasig lampa på gångvägen"]
    rendered = render(digest, "sv", base_url="https://lagesbild.example.se")
    for body in (rendered.html, rendered.text):
        assert "Förfallna åtgärder".upper() in body.upper()
        assert "Byt trasig lampa på gångvägen" in body and "Måla över klottret" not in body
        assert "1 åtgärder i åtgärdsplanen" in body
        assert "/workspace/atgardsplan?overdue=1" in body
    english = render(digest, "en", base_url="https://lagesbild.example.se")
    assert "Overdue actions" in english.html


def test_no_overdue_actions_no_section(app: Flask) -> None:
    org = factories.make_org()
    _action(org.id, "Måla över klottret", DAY + timedelta(days=3))
    digest = _digest(org.id)
    assert digest.overdue_actions is None
    rendered = render(digest, "sv", base_url="https://lagesbild.example.se")
    assert "Förfallna åtgärder" not in rendered.html
    assert "FÖRFALLNA ÅTGÄRDER" not in rendered.text


def test_the_digest_lists_the_first_few_by_due_date_and_counts_the_rest(app: Flask) -> None:
    org = factories.make_org()
    other = factories.make_org()
    for n in range(OVERDUE_LIMIT + 2):
        _action(org.id, f"Åtgärd {n}", DAY - timedelta(days=10 - n))
    _action(other.id, "En annan organisations", DAY - timedelta(days=30))
    digest = _digest(org.id)
    assert digest.overdue_actions is not None
    assert digest.overdue_actions.total == OVERDUE_LIMIT + 2
    assert [a.text for a in digest.overdue_actions.items] == [
        f"Åtgärd {n}" for n in range(OVERDUE_LIMIT)
    ]
    text = render(digest, "sv", base_url="https://x.example").text
    assert f"Visar {OVERDUE_LIMIT} av {OVERDUE_LIMIT + 2}" in text
    assert "En annan organisations" not in text


def test_an_action_without_a_due_date_is_never_overdue(app: Flask) -> None:
    org = factories.make_org()
    number = _action(org.id, "Utan datum", None)
    with phase("write"):
        db.session.execute(update(Action).where(Action.id == number).values(status="pagar"))
    assert _digest(org.id).overdue_actions is None


@pytest.mark.parametrize("kind", ["week", "month"])
def test_the_weekly_and_monthly_lagesbild_carry_the_section_too(app: Flask, kind: str) -> None:
    org = factories.make_org()
    _action(org.id, "Försenad", DAY - timedelta(days=1))
    with phase("read"):
        digest = build_digest(org.id, kind, DAY)
    assert digest.overdue_actions is not None and digest.overdue_actions.total == 1


def test_the_monthly_lagesbild_counts_actions_decided_done_and_overdue(app: Flask) -> None:
    from datetime import UTC, datetime

    org = factories.make_org()
    decided = _action(org.id, "Beslutad i november", DAY + timedelta(days=30), "beslutad")
    done = _action(org.id, "Klar i november", DAY - timedelta(days=20), "klar")
    _action(org.id, "Försenad", DAY - timedelta(days=2), "beslutad")
    early = _action(org.id, "Beslutad i oktober", None, "beslutad")
    with phase("write"):
        november = datetime(2026, 11, 10, 12, tzinfo=UTC)
        for number in (decided, done):
            db.session.execute(
                update(Action).where(Action.id == number).values(decided_at=november)
            )
        db.session.execute(
            update(Action).where(Action.id == done).values(done_date=date(2026, 11, 30))
        )
        db.session.execute(
            update(Action)
            .where(Action.id == early)
            .values(decided_at=datetime(2026, 10, 31, 22, 59, tzinfo=UTC))
        )
    with phase("read"):
        digest = build_digest(org.id, "month", DAY)
    plan = digest.action_plan
    assert plan is not None and (plan.decided, plan.done, plan.overdue) == (2, 1, 1)
    text = render(digest, "sv", base_url="https://x.example").text
    assert "2 åtgärder beslutade och 1 klara under perioden; 1 är försenade." in text
    assert _digest(org.id).action_plan is None  # the night digest has no period counts


def test_the_retention_purge_keeps_an_actions_after_photo(app: Flask) -> None:
    from server.retention import scheduler
    from sync.clock import utcnow
    from tests.support.photos import jpeg
    from tests.support.retention import age_photo, photo_rows

    org = factories.make_org()
    number = _action(org.id, "Klotter sanerat", DAY, "pagar")
    kept = actions.store_after_photo(org.id, jpeg(seed=41))
    loose = actions.store_after_photo(org.id, jpeg(seed=42))
    actions.set_status(
        org.id, number, status_in("klar", done_date=DAY.isoformat()), CLI, after_photo=kept
    )
    age_photo(kept, 24 * 30)
    age_photo(loose, 24 * 30)
    outcome = scheduler.purge_now(org.id, now=utcnow(), owner="test:1")
    assert outcome.status == "done", outcome
    assert outcome.counts["orphan_photos_deleted"] == 1
    assert photo_rows(org.id) == {kept}
