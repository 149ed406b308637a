"""Retention of archived digests: copies that quote texts past the text period are rebuilt
without them, their own organisation's and a partner's; others stay as sent. Both lanes."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from server.digest import scrub
from server.digest.models import DigestRun
from server.extensions import db
from server.retention import scheduler
from server.retention import settings as retention
from server.retention.preview import preview
from server.sharing import service as sharing
from tests.support import factories
from tests.support.retention import DELETED_AGE, build_store

NOTICE = "lagringstid"  # from the Swedish "digest.archive.expired" notice


def copy_of(org_id: int, around: datetime, quote: str, written: datetime) -> int:
    """Store a sent night copy whose period holds `around`, quoting `quote`."""
    start = around - timedelta(hours=6)
    run = DigestRun(
        org_id=org_id,
        kind="night",
        day=(start + timedelta(days=1)).date(),
        period_start=start,
        period_end=start + timedelta(hours=12),
        status="sent",
        scheduled_for=start + timedelta(hours=12),
        sent_at=start + timedelta(hours=12),
        html=f"<p>{quote}</p>",
        text=quote,
        lang="sv",
        recipients=["a@b.se"],
        updated_at=written,
    )
    db.session.add(run)
    db.session.commit()
    return run.id


def stored(run_id: int) -> DigestRun:
    """Read a run afresh."""
    db.session.expire_all()
    run = db.session.get(DigestRun, run_id)
    assert run is not None
    return run


def test_copies_quoting_cleared_texts_are_rebuilt_once_and_others_stay(
    app: Flask, client: FlaskClient
) -> None:
    s = build_store(client)
    cleared, kept = s.row("cleared"), s.row("kept")
    gone_text, kept_text = cleared.description, kept.description
    partner = factories.make_org("Polisen i Staffanstorp")
    sharing.share(s.org, partner, "full")
    written = cleared.created_at + timedelta(hours=7)
    own = copy_of(s.org.id, cleared.created_at, gone_text, written)
    theirs = copy_of(partner.id, cleared.created_at, gone_text, written)
    recent = copy_of(s.org.id, kept.created_at, kept_text, kept.created_at + timedelta(hours=7))
    unrelated = copy_of(factories.make_org("Annan").id, cleared.created_at, gone_text, written)

    assert preview(s.org.id, s.now)["digest_copies_rebuilt"] == 2
    outcome = scheduler.purge_now(s.org.id, now=s.now, owner="test:1")
    assert outcome.status == "done" and outcome.counts["digest_copies_rebuilt"] == 2

    for run_id in (own, theirs):
        run = stored(run_id)
        assert gone_text not in (run.html or "") and gone_text not in (run.text or "")
        assert NOTICE in (run.html or "") and NOTICE in (run.text or "")
        assert run.updated_at > written
    for run_id, text in ((recent, kept_text), (unrelated, gone_text)):
        run = stored(run_id)
        assert (run.html, run.text) == (f"<p>{text}</p>", text)

    # Rebuilt once: the next purge finds nothing newly cleared in those periods.
    assert preview(s.org.id, s.now + timedelta(days=1))["digest_copies_rebuilt"] == 0
    again = scheduler.purge_now(s.org.id, now=s.now + timedelta(days=1), owner="test:2")
    assert again.status == "done" and again.counts["digest_copies_rebuilt"] == 0


def test_a_copy_written_after_the_texts_were_cleared_is_left_alone(
    app: Flask, client: FlaskClient
) -> None:
    s = build_store(client)
    first = scheduler.purge_now(s.org.id, now=s.now, owner="test:1")
    assert first.status == "done"
    cleared = s.row("cleared")
    later = copy_of(s.org.id, cleared.created_at, "Ingen fritext", s.now + timedelta(hours=1))
    again = scheduler.purge_now(s.org.id, now=s.now + timedelta(hours=2), owner="test:2")
    assert again.status == "done" and again.counts["digest_copies_rebuilt"] == 0
    assert stored(later).html == "<p>Ingen fritext</p>"


def test_a_copy_written_before_the_cutoff_is_rebuilt_even_when_its_reports_are_gone(
    app: Flask, client: FlaskClient
) -> None:
    s = build_store(client)
    # A report period as long as the text period: the 800-day-old report is deleted whole,
    # its text never cleared first; its night's copy is kept (digest period 900 days).
    retention.configure(s.org.id, text_days=500, report_days=500, digest_days=900)
    quote, at = "Gammalt klotter", s.now - timedelta(days=DELETED_AGE)
    old = copy_of(s.org.id, at, quote, at + timedelta(hours=7))
    outcome = scheduler.purge_now(s.org.id, now=s.now, owner="test:1")
    assert outcome.status == "done" and outcome.counts["reports_purged"] == 1
    assert outcome.counts["texts_cleared"] == 0
    assert outcome.counts["digest_copies_rebuilt"] == 1
    run = stored(old)
    assert quote not in (run.html or "") and NOTICE in (run.html or "")


def test_a_copy_that_fails_to_rebuild_is_kept_and_tried_again(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    s = build_store(client)
    cleared = s.row("cleared")
    assert cleared is not None
    quote = cleared.description
    run_id = copy_of(s.org.id, cleared.created_at, quote, cleared.created_at + timedelta(hours=7))

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("database is locked")

    monkeypatch.setattr(scrub, "build_digest", broken)
    first = scheduler.purge_now(s.org.id, now=s.now, owner="test:1")
    assert first.status == "done" and first.counts["digest_copies_rebuilt"] == 0
    assert stored(run_id).html == f"<p>{quote}</p>"  # a passing error loses no archive

    monkeypatch.undo()
    again = scheduler.purge_now(s.org.id, now=s.now + timedelta(days=1), owner="test:2")
    assert again.status == "done" and again.counts["digest_copies_rebuilt"] == 1
    assert quote not in (stored(run_id).html or "")
