"""The status of planned runs: completed, incomplete, late, missed and not synced."""

from __future__ import annotations

from datetime import UTC, datetime

from server.extensions import db
from server.rounds.status import statuses
from tests.support import factories
from tests.support.rounds import (
    AFTER_CUTOFF,
    BEFORE_CUTOFF,
    NIGHT,
    checkpoint,
    four_rounds,
    round_over,
    stored_run,
    utc,
)


def by_round(rows):
    return {r.round_name: r for r in rows}


def test_each_status_of_one_night_before_the_cutoff(org) -> None:
    four_rounds(org.id)
    rows = by_round(statuses(org.id, NIGHT, NIGHT, BEFORE_CUTOFF))
    assert rows["Rond Centrum"].status == "completed"
    assert (rows["Rond Hamnen"].status, rows["Rond Hamnen"].missing) == ("incomplete", ("Tak",))
    assert rows["Rond Hamnen"].reason == "Taket var avspärrat."
    assert rows["Rond Skolan"].status == "missed"
    assert rows["Rond Skolan"].missing == ("Förråd", "Gård")
    assert rows["Rond Torget"].status == "not_synced"


def test_after_the_cutoff_not_synced_becomes_incomplete(org) -> None:
    four_rounds(org.id)
    rows = by_round(statuses(org.id, NIGHT, NIGHT, AFTER_CUTOFF))
    assert rows["Rond Torget"].status == "incomplete"
    assert rows["Rond Torget"].missing == ("Cykelrum",)


def test_no_run_is_not_synced_while_a_walker_is_silent_then_missed(org) -> None:
    cp = checkpoint(org.id)
    rnd = round_over(org.id, [cp])
    walker = factories.make_device(org).device
    # The walker ran it the night before and has not been heard from since.
    stored_run(
        walker,
        rnd,
        datetime(2026, 4, 30, 20, 10, tzinfo=UTC),
        [(cp, datetime(2026, 4, 30, 20, 20, tzinfo=UTC))],
    )
    walker.last_seen_at = datetime(2026, 4, 30, 21, tzinfo=UTC)
    db.session.commit()
    assert statuses(org.id, NIGHT, NIGHT, BEFORE_CUTOFF)[0].status == "not_synced"
    assert statuses(org.id, NIGHT, NIGHT, AFTER_CUTOFF)[0].status == "missed"
    # Heard from after the window started: the round was simply not walked.
    walker.last_seen_at = utc(23)
    db.session.commit()
    assert statuses(org.id, NIGHT, NIGHT, BEFORE_CUTOFF)[0].status == "missed"


def test_late_when_a_required_checkpoint_comes_after_the_grace(org) -> None:
    a, b = checkpoint(org.id, "A"), checkpoint(org.id, "B")
    rnd = round_over(org.id, [a, b])
    dev = factories.make_device(org).device
    stored_run(dev, rnd, utc(23, 30), [(a, utc(23, 40)), (b, utc(0, 20, day=2))])
    assert statuses(org.id, NIGHT, NIGHT, BEFORE_CUTOFF)[0].status == "late"


def test_an_organisation_without_rounds_has_no_rows(org) -> None:
    assert statuses(org.id, NIGHT, NIGHT, BEFORE_CUTOFF) == []


def test_nothing_is_missed_before_the_round_existed(org) -> None:
    rnd = round_over(org.id, [checkpoint(org.id)])
    rnd.created_at = utc(23)  # during the window of NIGHT: that run still counts
    db.session.commit()
    assert [r.night for r in statuses(org.id, NIGHT, NIGHT, AFTER_CUTOFF)] == [NIGHT]
    rnd.created_at = AFTER_CUTOFF
    db.session.commit()
    assert statuses(org.id, NIGHT, NIGHT, AFTER_CUTOFF) == []
