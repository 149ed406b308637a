"""Retention: what the purge clears and deletes, what survives, and the dry run. Both lanes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from analysis.calendar import STOCKHOLM
from server.audit.models import AuditEntry
from server.extensions import db
from server.incidents import queries
from server.incidents.models import Incident
from server.reports.models import Tombstone
from server.retention import scheduler, service
from server.retention import settings as retention
from server.retention.preview import preview
from sync.clock import utcnow
from tests.support import factories
from tests.support.retention import (
    CLEARED_AGE,
    DELETED_AGE,
    add_comments,
    age_photo,
    at_age,
    build_store,
    comment_ids,
    digest_run,
    has_files,
    photo_rows,
    push,
    table_counts,
    upload,
)

PULL = "/api/v1/sync/pull"
EXPECTED = {
    "reports_purged": 1,
    "texts_cleared": 3,
    "comments_deleted": 3,
    "photos_deleted": 2,
    "orphan_photos_deleted": 1,
    "digest_copies_rebuilt": 0,
    "audit_deleted": 1,
    "digests_deleted": 1,
    "scans_deleted": 0,
    "round_runs_deleted": 0,
    "alerts_deleted": 0,
    "alert_deliveries_deleted": 0,
}


def purge(org_id: int, now, batch: int = service.BATCH) -> scheduler.Outcome:
    """Purge through the manual path (the same run and lease as the scheduler)."""
    outcome = scheduler.purge_now(org_id, now=now, owner="test:1", batch=batch)
    assert outcome.status == "done", outcome
    return outcome


def add_audit_and_digests(org_id: int, now) -> None:
    """An audit entry and an archived digest past their periods, and one inside."""
    for days in (DELETED_AGE, 10):
        db.session.add(AuditEntry(org_id=org_id, action="view", at=now - timedelta(days=days)))
    db.session.commit()
    digest_run(org_id, 400, now)
    digest_run(org_id, 10, now)


@pytest.mark.parametrize("batch", [service.BATCH, 1])
def test_the_purge_clears_deletes_and_counts(app: Flask, client: FlaskClient, batch: int) -> None:
    s = build_store(client)
    comments = add_comments(s)
    add_audit_and_digests(s.org.id, s.now)

    outcome = purge(s.org.id, s.now, batch)

    assert outcome.counts == EXPECTED
    assert s.row("deleted") is None
    for role in ("cleared", "cleared_too", "lamp_old"):
        row = s.row(role)
        assert row is not None and row.text_purged_at is not None, role
        assert (row.description, row.place, row.photos) == ("", "", []), role
        # The facts stay: the counts by day, category and area need them.
        assert row.category_code == s.reports[role]["category"]
    for role in ("lamp_new", "kept"):
        row = s.row(role)
        assert row is not None and row.text_purged_at is None
        assert row.description == s.reports[role]["description"]
    assert s.row("kept").photos == s.reports["kept"]["photos"]
    # Comments: with the report's text, and on an incident once all its texts went.
    left = comment_ids()
    assert comments["on_kept"] in left and comments["incident_lamp_old"] in left
    assert not {comments[k] for k in ("on_cleared", "on_deleted", "incident_cleared")} & left
    # Photos: those only purged reports named, rows and files; the unnamed one past its grace.
    stored = photo_rows(s.org.id)
    assert stored == {s.photos[k] for k in ("p_shared", "p_kept", "p_fresh")}
    for role in ("p_deleted", "p_cleared", "p_orphan"):
        assert not has_files(s.photos[role]), role
    assert has_files(s.photos["p_kept"]) and has_files(s.photos["p_fresh"])
    # The audit entry of the purge itself, and the old entry gone.
    db.session.expire_all()
    actions = [
        (e.action, e.target)
        for e in db.session.scalars(select(AuditEntry).where(AuditEntry.org_id == s.org.id))
    ]
    assert ("view", "") in actions and len(actions) == 2
    assert any(a == "retention.purge" and "texts_cleared=3" in t for a, t in actions)


def test_incident_summaries_follow_the_cleared_texts(app: Flask, client: FlaskClient) -> None:
    s = build_store(client)
    cleared_incident = s.row("cleared").incident_id
    lamp_incident = s.row("lamp_old").incident_id
    assert s.row("lamp_new").incident_id == lamp_incident
    assert db.session.get(Incident, lamp_incident).summary.startswith("Släckt lampa, Bengt")

    purge(s.org.id, s.now)

    db.session.expire_all()
    cleared = db.session.get(Incident, cleared_incident)
    assert (cleared.summary, cleared.place, cleared.report_count) == ("", "", 2)
    lamp = db.session.get(Incident, lamp_incident)
    assert lamp.summary == "Lampan är fortfarande släckt"  # the report that kept its text
    assert "Bengt" not in lamp.summary and lamp.report_count == 2


def test_a_purged_report_leaves_a_tombstone_and_a_resend_never_revives_it(
    app: Flask, client: FlaskClient
) -> None:
    s = build_store(client)
    incident = s.row("deleted").incident_id
    purge(s.org.id, s.now)

    tomb = db.session.get(Tombstone, s.id("deleted"))
    assert tomb is not None and tomb.reason == "retention" and tomb.device_id == s.dev.device.id
    assert db.session.get(Incident, incident) is None  # emptied, so removed
    # The phone's outbox sends the report again, and then an edit of it: both are gone.
    again = s.reports["deleted"]
    edit = {**again, "updated_at": at_age(s.now, 0), "revision": 1, "description": "Igen"}
    assert [r["status"] for r in push(client, s.dev, again, edit)] == ["gone", "gone"]
    assert s.row("deleted") is None
    # The phone learns of the deletion from its next pull.
    pulled = client.get(PULL, headers=s.dev.headers).get_json()
    assert str(s.id("deleted")) in pulled["deleted"]


def test_a_resend_never_brings_back_a_cleared_text_or_photo(
    app: Flask, client: FlaskClient
) -> None:
    s = build_store(client)
    purge(s.org.id, s.now)
    version = s.row("cleared").version

    original = s.reports["cleared"]
    later_edit = {
        **original,
        "updated_at": at_age(s.now, 1),
        "revision": 3,
        "description": "Anna igen, nu med efternamn",
        "severity": 3,
    }
    statuses = [r["status"] for r in push(client, s.dev, original, later_edit)]
    assert statuses == ["duplicate", "updated"]

    row = s.row("cleared")
    assert (row.description, row.place, row.photos) == ("", "", [])
    assert row.severity == 3  # a fact the phone may still correct
    assert row.version > version
    assert s.photos["p_cleared"] not in photo_rows(s.org.id)


def test_the_phone_pulls_a_cleared_report_without_its_comments(
    app: Flask, client: FlaskClient
) -> None:
    s = build_store(client)
    add_comments(s)
    first = client.get(PULL, headers=s.dev.headers).get_json()
    before = {r["id"]: r for r in first["reports"]}
    assert before[str(s.id("cleared"))]["comments"]

    purge(s.org.id, s.now)

    again = client.get(PULL, headers=s.dev.headers, query_string={"cursor": first["cursor"]})
    after = {r["id"]: r for r in again.get_json()["reports"]}
    assert after[str(s.id("cleared"))]["comments"] == []
    assert after[str(s.id("cleared"))]["version"] > before[str(s.id("cleared"))]["version"]


# The pinned hour puts the cleared reports a few minutes before a Stockholm midnight.
@pytest.mark.parametrize("now", [None, datetime(2026, 12, 7, 21, 55, tzinfo=UTC)])
def test_counts_by_day_category_and_area_survive_the_text_purge(
    app: Flask, client: FlaskClient, now: datetime | None
) -> None:
    s = build_store(client, now=now)
    cleared_day = (s.now - timedelta(days=CLEARED_AGE)).astimezone(STOCKHOLM).date()
    deleted_day = (s.now - timedelta(days=DELETED_AGE)).astimezone(STOCKHOLM).date()
    window = (s.now - timedelta(days=CLEARED_AGE + 1), s.now - timedelta(days=CLEARED_AGE - 1))

    def counts() -> tuple[object, object, object]:
        db.session.expire_all()
        days = queries.daily_counts(s.org.id, cleared_day, cleared_day)
        old = queries.daily_counts(s.org.id, deleted_day, deleted_day)
        return days.by_category, queries.counts_in_window(s.org.id, *window), old.total

    by_category, in_window, old_total = counts()
    assert by_category == {("skadegorelse", cleared_day): 2} and old_total == {deleted_day: 1}

    purge(s.org.id, s.now)

    assert counts()[:2] == (by_category, in_window)
    # Past the report period the whole report, and with it its count, is gone (by design:
    # every comparison the product draws lies within the minimum period of a year).
    assert counts()[2] == {}


def test_unnamed_photos_wait_for_their_grace_period(app: Flask, client: FlaskClient) -> None:
    org = factories.make_org()
    dev = factories.make_device(org)
    young, old = upload(client, dev, 31), upload(client, dev, 32)
    age_photo(young, 47)
    age_photo(old, 49)

    outcome = purge(org.id, utcnow())

    assert outcome.counts["orphan_photos_deleted"] == 1
    assert photo_rows(org.id) == {young}
    assert has_files(young) and not has_files(old)


def test_a_photo_an_edit_removed_goes_after_its_grace(app: Flask, client: FlaskClient) -> None:
    org = factories.make_org()
    dev = factories.make_device(org)
    kept, dropped = upload(client, dev, 35), upload(client, dev, 36)
    original = factories.report(photos=[kept, dropped])
    push(client, dev, original)
    edit = {**original, "updated_at": at_age(utcnow(), 0), "revision": 1, "photos": [kept]}
    assert push(client, dev, edit)[0]["status"] == "updated"
    age_photo(kept, 72)
    age_photo(dropped, 72)

    outcome = purge(org.id, utcnow())

    assert (outcome.counts["orphan_photos_deleted"], outcome.counts["photos_deleted"]) == (1, 0)
    assert photo_rows(org.id) == {kept} and not has_files(dropped)


def test_the_grace_period_is_a_setting(app: Flask, client: FlaskClient) -> None:
    org = factories.make_org()
    dev = factories.make_device(org)
    photo = upload(client, dev, 33)
    age_photo(photo, 5)
    app.config["PHOTO_GRACE_HOURS"] = 4
    outcome = scheduler.purge_now(org.id, owner="test:1")
    assert outcome.counts["orphan_photos_deleted"] == 1 and photo_rows(org.id) == set()


def test_a_photo_named_again_while_the_purge_runs_is_kept(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A push that names an unnamed photo after the purge read the names keeps it."""
    from server.retention import photos as sweep

    org = factories.make_org()
    dev = factories.make_device(org)
    photo = upload(client, dev, 34)
    age_photo(photo, 72)
    real_scan = sweep.scan_names

    def scan_then_push(org_id: int, split_before=None) -> sweep.Names:
        names = real_scan(org_id, split_before)
        db.session.commit()
        push(client, dev, factories.report(photos=[photo]))
        return names

    monkeypatch.setattr(sweep, "scan_names", scan_then_push)
    outcome = scheduler.purge_now(org.id, owner="test:1")
    assert outcome.counts["orphan_photos_deleted"] == 0
    assert photo_rows(org.id) == {photo} and has_files(photo)


def test_the_dry_run_counts_the_same_and_changes_nothing(app: Flask, client: FlaskClient) -> None:
    s = build_store(client)
    add_comments(s)
    add_audit_and_digests(s.org.id, s.now)
    tables = table_counts()
    texts = {role: s.row(role).description for role in s.reports}

    outcome = scheduler.purge_now(s.org.id, now=s.now, dry_run=True)

    assert outcome.status == "dry_run" and outcome.run_id is None
    assert outcome.counts == EXPECTED
    assert table_counts() == tables
    assert {role: s.row(role).description for role in s.reports} == texts
    assert all(has_files(sha) for sha in s.photos.values())
    assert purge(s.org.id, s.now).counts == outcome.counts


def test_a_second_purge_finds_nothing_more(app: Flask, client: FlaskClient) -> None:
    s = build_store(client)
    purge(s.org.id, s.now)
    assert preview(s.org.id, s.now) == service.empty_counts()
    again = purge(s.org.id, s.now)
    assert again.counts == service.empty_counts()


def test_each_organisation_purges_by_its_own_periods(app: Flask, client: FlaskClient) -> None:
    s = build_store(client)
    other = build_store(client, now=s.now)
    retention.configure(other.org.id, text_days=120)

    assert purge(other.org.id, s.now).counts["texts_cleared"] == 0
    assert other.row("cleared").description == other.reports["cleared"]["description"]
    assert s.row("cleared").description == s.reports["cleared"]["description"]
    assert purge(s.org.id, s.now).counts["texts_cleared"] == 3


def test_the_periods_refuse_nonsense_and_store_nothing(app: Flask) -> None:
    org = factories.make_org()
    cases = [
        ({"text_days": 0}, "text days must be between 1"),
        ({"audit_days": -5}, "audit days must be between 1"),
        ({"text_days": 800}, "cannot exceed report days"),
        ({"report_days": 100}, "at least 365"),
        ({"digest_days": 7}, "at least 32"),
        ({"report_days": 10**9}, "between 1 and 36500"),
    ]
    for changes, message in cases:
        with pytest.raises(ValueError, match=message):
            retention.configure(org.id, **changes)
        db.session.expire_all()
        assert retention.periods_of(db.session.get(type(org), org.id)) == retention.Periods(
            90, 730, 730, 365
        )
    assert retention.configure(org.id, text_days=30, report_days=1000) == retention.Periods(
        30, 1000, 730, 365
    )
