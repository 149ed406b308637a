"""A store with reports, photos, comments, audit entries and digests of every age, for the
retention tests (the default periods: text 90 days, reports 730, audit 730, digests 365).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import func, select, update

from analysis.calendar import STOCKHOLM
from server.audit.models import AuditEntry
from server.digest.models import DigestRun
from server.extensions import db
from server.incidents import feedback
from server.incidents import service as incidents
from server.orgs.models import Organisation
from server.photos.models import Photo
from server.reports.models import Report, ReportComment, Tombstone
from sync.clock import utcnow
from tests.support import factories
from tests.support.photos import files_mentioning, jpeg, put, sha

PUSH = "/api/v1/sync/push"
# Ages in days: past the report period, past the text period, inside both.
DELETED_AGE, CLEARED_AGE, KEPT_AGE = 800, 100, 10
LAMP = {"lat": 55.6450, "lon": 13.2150, "accuracy_m": 5.0}


def at_age(now: datetime, days: float) -> str:
    """Return the device time `days` before `now`, as a phone writes it."""
    when = (now - timedelta(days=days)).astimezone(factories.STOCKHOLM_WINTER)
    return when.isoformat(timespec="seconds")


def _same_day_neighbour(now: datetime, days: float) -> float:
    """Return an age a quarter hour from `days` whose Stockholm day is the same.

    Why: the counts by day expect both reports on one day, whatever the hour of the run.
    """
    day = (now - timedelta(days=days)).astimezone(STOCKHOLM).date()
    later = days - 0.01
    if (now - timedelta(days=later)).astimezone(STOCKHOLM).date() == day:
        return later
    return days + 0.01


def push(client: Any, dev: factories.EnrolledDevice, *reports: dict[str, Any]) -> list[dict]:
    """Push reports and return the results."""
    resp = client.post(PUSH, json={"reports": list(reports)}, headers=dev.headers)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    db.session.rollback()
    return resp.get_json()["results"]


def upload(client: Any, dev: factories.EnrolledDevice, seed: int) -> str:
    """Upload a small photo and return its hash."""
    data = jpeg(seed=seed)
    assert put(client, dev, data).status_code in (200, 201)
    db.session.rollback()
    return sha(data)


def age_photo(sha256: str, hours: float) -> None:
    """Make an uploaded photo `hours` old."""
    db.session.execute(
        update(Photo)
        .where(Photo.sha256 == sha256)
        .values(created_at=utcnow() - timedelta(hours=hours))
    )
    db.session.commit()


def digest_run(org_id: int, day_age: int, now: datetime) -> None:
    """Archive a sent night digest due `day_age` days before today."""
    day = now.date() - timedelta(days=day_age)
    start = now - timedelta(days=day_age, hours=12)
    db.session.add(
        DigestRun(
            org_id=org_id,
            kind="night",
            day=day,
            period_start=start,
            period_end=start + timedelta(hours=12),
            status="sent",
            scheduled_for=start + timedelta(hours=12),
            sent_at=start + timedelta(hours=12),
            html="<p>Klotter på torget</p>",
            text="Klotter på torget",
            lang="sv",
            recipients=["a@b.se"],
        )
    )
    db.session.commit()


@dataclass
class Store:
    """The reports (by role), photos (by role) and the device of the retention store."""

    org: Organisation
    dev: factories.EnrolledDevice
    now: datetime
    reports: dict[str, dict[str, Any]] = field(default_factory=dict)
    photos: dict[str, str] = field(default_factory=dict)

    def id(self, role: str) -> uuid.UUID:
        """Return a report's id."""
        return uuid.UUID(self.reports[role]["id"])

    def row(self, role: str) -> Report | None:
        """Read a report afresh."""
        db.session.expire_all()
        return db.session.get(Report, self.id(role))


def build_store(client: Any, now: datetime | None = None) -> Store:
    """Build the store; every role's fate under the default periods is in its name.

    Reports: `deleted` (800 days), `cleared` and `cleared_too` (100 days, one incident),
    `lamp_old` (93 days) and `lamp_new` (88 days) in one incident (a broken lamp groups
    for 7 days), `kept` (10 days). Photos: `p_deleted`, `p_cleared` (named only by purged
    reports), `p_shared` (named by `cleared` and `kept`), `p_kept`, `p_orphan` (never
    named, 3 days old), `p_fresh` (never named, 1 hour old).
    """
    now = now or utcnow()
    org = factories.make_org()
    dev = factories.make_device(org)
    s = Store(org, dev, now)
    for seed, role in enumerate(("p_deleted", "p_cleared", "p_shared", "p_kept", "p_orphan")):
        s.photos[role] = upload(client, dev, seed + 1)
    s.photos["p_fresh"] = upload(client, dev, 9)
    for role in ("p_deleted", "p_cleared", "p_shared", "p_kept", "p_orphan"):
        age_photo(s.photos[role], 24 * 3)
    age_photo(s.photos["p_fresh"], 1)
    r = factories.report
    s.reports = {
        "deleted": r(
            created_at=at_age(now, DELETED_AGE),
            description="Gammalt klotter",
            photos=[s.photos["p_deleted"]],
        ),
        "cleared": r(
            created_at=at_age(now, CLEARED_AGE),
            description="Anna på trappan igen",
            place="Trappan Storgatan 4",
            photos=[s.photos["p_cleared"], s.photos["p_shared"]],
        ),
        "cleared_too": r(
            created_at=at_age(now, _same_day_neighbour(now, CLEARED_AGE)),
            description="Mer klotter",
            place="Trappan Storgatan 4",
        ),
        "lamp_old": r(
            created_at=at_age(now, 93),
            category="miljo",
            location=LAMP,
            description="Släckt lampa, Bengt vet mer",
            place="Gångtunneln",
        ),
        "lamp_new": r(
            created_at=at_age(now, 88),
            category="miljo",
            location=LAMP,
            description="Lampan är fortfarande släckt",
            place="Gångtunneln",
        ),
        "kept": r(
            created_at=at_age(now, KEPT_AGE),
            description="Nytt klotter",
            photos=[s.photos["p_shared"], s.photos["p_kept"]],
        ),
    }
    results = push(client, dev, *s.reports.values())
    assert [x["status"] for x in results] == ["created"] * len(s.reports), results
    return s


def add_comments(s: Store) -> dict[str, int]:
    """Comment on reports and incidents; return the comment ids by role."""
    ids = {
        "on_cleared": feedback.add_comment(s.id("cleared"), "Vi pratade med Anna").id,
        "on_kept": feedback.add_comment(s.id("kept"), "Sanerat").id,
        "on_deleted": feedback.add_comment(s.id("deleted"), "Gammal kommentar").id,
    }
    for role in ("cleared", "lamp_old"):
        row = s.row(role)
        assert row is not None and row.incident_id is not None
        comment = incidents.add_comment(s.org.id, row.incident_id, f"Händelse {role}", None)
        ids[f"incident_{role}"] = comment.id
    return ids


def comment_ids() -> set[int]:
    """Return the ids of every stored comment."""
    db.session.expire_all()
    return set(db.session.scalars(select(ReportComment.id)))


def photo_rows(org_id: int) -> set[str]:
    """Return the hashes of the organisation's stored photos."""
    db.session.expire_all()
    return set(db.session.scalars(select(Photo.sha256).where(Photo.org_id == org_id)))


def has_files(sha256: str) -> bool:
    """Tell whether any stored file of the photo is left."""
    return bool(files_mentioning(current_app, sha256))


def table_counts() -> dict[str, int]:
    """Count the rows of every table a purge touches."""
    db.session.expire_all()
    models = (Report, Tombstone, ReportComment, Photo, AuditEntry, DigestRun)
    return {m.__tablename__: db.session.scalar(select(func.count()).select_from(m)) for m in models}
