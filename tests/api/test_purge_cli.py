"""`lagesbild org retention` and `lagesbild purge`, and the digest's line about the purge.
Both database lanes.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import select

from analysis.calendar import due_day
from server.audit.models import AuditEntry
from server.digest.content import build_digest
from server.digest.render import render
from server.extensions import db
from server.orgs.models import Organisation
from server.retention import runs, scheduler
from server.retention.models import PurgeRun
from sync.clock import utcnow
from tests.support import factories
from tests.support.retention import build_store, table_counts


def invoke(runner: FlaskCliRunner, *args: str) -> tuple[int, dict]:
    """Run a command with --json; return its exit code and the JSON it printed."""
    result = runner.invoke(args=[*args, "--json"])
    lines = result.output.strip().splitlines()
    data = json.loads(lines[-1]) if lines and lines[-1].startswith("{") else {}
    return result.exit_code, data


def stored_periods(org_id: int) -> tuple[int, int, int, int]:
    """Read the organisation's periods afresh."""
    db.session.expire_all()
    org = db.session.get(Organisation, org_id)
    return (
        org.retention_text_days,
        org.retention_report_days,
        org.retention_audit_days,
        org.retention_digest_days,
    )


def test_org_retention_shows_and_changes_the_periods(app: Flask, runner: FlaskCliRunner) -> None:
    org = factories.make_org("Mjölby kommun")
    code, shown = invoke(runner, "org", "retention", "Mjölby kommun")
    assert code == 0
    assert shown == {
        "org": org.slug,
        "text_days": 90,
        "report_days": 730,
        "audit_days": 730,
        "digest_days": 365,
    }
    code, changed = invoke(
        runner, "org", "retention", org.slug, "--text-days", "30", "--audit-days", "400"
    )
    assert code == 0 and (changed["text_days"], changed["audit_days"]) == (30, 400)
    assert stored_periods(org.id) == (30, 730, 400, 365)
    text = runner.invoke(args=["org", "retention", org.slug]).output
    assert "free text and photos 30 days" in text and "audit log 400 days" in text
    db.session.expire_all()
    [entry] = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "retention.settings")
    ).all()
    assert entry.target == "text=30 report=730 audit=400 digest=365" and entry.person_id is None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--text-days", "0"], "text days must be between 1"),
        (["--report-days", "-1"], "report days must be between 1"),
        (["--text-days", "800"], "cannot exceed report days (730)"),
        (["--text-days", "60", "--report-days", "50"], "cannot exceed report days (50)"),
        (["--digest-days", "10"], "digest days must be at least 32"),
        (["--text-days", "nittio"], "is not a valid integer"),
    ],
)
def test_org_retention_refuses_nonsense_and_stores_nothing(
    app: Flask, runner: FlaskCliRunner, args: list[str], message: str
) -> None:
    org = factories.make_org()
    result = runner.invoke(args=["org", "retention", org.slug, *args])
    assert result.exit_code != 0
    assert message in result.output
    assert stored_periods(org.id) == (90, 730, 730, 365)
    db.session.expire_all()
    assert db.session.scalars(select(AuditEntry)).all() == []


def test_org_retention_of_an_unknown_organisation(app: Flask, runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["org", "retention", "ingen-sadan", "--text-days", "30"])
    assert result.exit_code != 0 and "no organisation named 'ingen-sadan'" in result.output


def test_purge_dry_run_prints_the_counts_and_changes_nothing(
    app: Flask, client: FlaskClient, runner: FlaskCliRunner
) -> None:
    s = build_store(client)
    before = table_counts()
    code, data = invoke(runner, "purge", "--org", s.org.slug, "--dry-run")
    assert code == 0
    assert data["status"] == "dry_run" and data["dry_run"] is True and data["run_id"] is None
    assert data["counts"]["texts_cleared"] == 3 and data["counts"]["reports_purged"] == 1
    assert table_counts() == before
    db.session.expire_all()
    assert db.session.scalars(select(PurgeRun)).all() == []


def test_purge_runs_now_prints_the_counts_and_is_audited(
    app: Flask, client: FlaskClient, runner: FlaskCliRunner
) -> None:
    s = build_store(client)
    code, dry = invoke(runner, "purge", "--org", s.org.slug, "--dry-run")
    code, data = invoke(runner, "purge", "--org", s.org.slug)
    assert code == 0 and data["status"] == "done" and data["error"] is None
    assert data["counts"] == dry["counts"]
    assert data["day"] == scheduler.purge_day(utcnow()).isoformat()
    assert s.row("deleted") is None and s.row("cleared").description == ""
    db.session.expire_all()
    [entry] = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "retention.purge")
    ).all()
    assert entry.target.startswith("manual reports_purged=1 texts_cleared=3")
    text = runner.invoke(args=["purge", "--org", s.org.slug]).output
    assert text.startswith(f"Purged for {s.org.name}: reports purged 0, texts cleared 0")


def test_purge_waits_for_a_purge_in_progress(
    app: Flask, client: FlaskClient, runner: FlaskCliRunner
) -> None:
    s = build_store(client)
    now = utcnow()
    run_id = runs.ensure_run(s.org.id, scheduler.purge_day(now), now)
    assert runs.claim(run_id, now, "worker:1")
    code, data = invoke(runner, "purge", "--org", s.org.slug)
    assert code == 1 and data["status"] == "busy"
    assert s.row("deleted") is not None


def test_purge_of_an_unknown_organisation(app: Flask, runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["purge", "--org", "ingen-sadan", "--dry-run"])
    assert result.exit_code != 0 and "no organisation named 'ingen-sadan'" in result.output


# --- the morning digest names the night's purge ----------------------------------------------


def _digest_text(org_id: int, kind: str, day, lang: str = "sv") -> tuple[str, str]:
    digest = build_digest(org_id, kind, day, now=utcnow())
    rendered = render(digest, lang, base_url="https://lagesbild.example.se", image_mode="url")
    return rendered.text, rendered.html


def _done_run(org_id: int, day, **counts: int) -> None:
    db.session.add(
        PurgeRun(org_id=org_id, day=day, status="done", counts=counts, finished_at=utcnow())
    )
    db.session.commit()


def test_the_night_digest_names_what_the_purge_removed(app: Flask) -> None:
    org = factories.make_org()
    today = scheduler.purge_day(utcnow())
    _done_run(
        org.id,
        today,
        texts_cleared=12,
        reports_purged=1,
        photos_deleted=3,
        orphan_photos_deleted=2,
        comments_deleted=0,
        audit_deleted=40,
        digests_deleted=0,
    )
    text, html = _digest_text(org.id, "night", today)
    line = (
        "Gallrat i natt enligt lagringstiderna: text och foton rensade i 12 rapporter, "
        "1 rapport raderad, 5 foton raderade, 40 loggposter raderade."
    )
    assert line in text and line in html
    english, _ = _digest_text(org.id, "night", today, "en")
    assert (
        "Purged last night under the retention periods: text and photos cleared in 12 reports, "
        "1 report deleted, 5 photos deleted, 40 audit entries deleted." in english
    )
    # Only the night digest, and only the night's own run.
    _done_run(org.id, due_day("week", today) - timedelta(days=7), texts_cleared=5)
    assert "Gallrat" not in _digest_text(org.id, "week", due_day("week", today))[0]
    assert "Gallrat" not in _digest_text(org.id, "night", today - timedelta(days=1))[0]


def test_the_digest_says_nothing_when_nothing_was_purged(app: Flask) -> None:
    org = factories.make_org()
    today = scheduler.purge_day(utcnow())
    _done_run(org.id, today, texts_cleared=0, reports_purged=0)
    assert "Gallrat" not in _digest_text(org.id, "night", today)[0]


def test_the_digest_ignores_a_purge_still_running(app: Flask) -> None:
    org = factories.make_org()
    today = scheduler.purge_day(utcnow())
    db.session.add(
        PurgeRun(org_id=org.id, day=today, status="running", counts={"texts_cleared": 4})
    )
    db.session.commit()
    assert "Gallrat" not in _digest_text(org.id, "night", today)[0]
