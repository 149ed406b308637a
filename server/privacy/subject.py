"""Subject access requests: export, and delete on request, what is stored about a subject.

`export_device` / `export_person` return one JSON-ready dict with a fixed set of top-level
keys (`DEVICE_KEYS`, `PERSON_KEYS`); secrets are never in it (a device's token hash, its
enrolment codes' hashes, a person's password hash, session ids, a push subscription's
endpoint path and keys: the person's export names the push service's host only).
`delete_device` /
`delete_person` (server.privacy.subject_delete) erase or anonymise:

- a device: every report it sent is erased as by `lagesbild report delete --reason
  erasure` (tombstones stay, so a resend never brings one back); the photos it uploaded
  that no report names go, rows and files; it is revoked, its token and enrolment codes
  go, its name becomes "Raderad enhet ID" (in the audit log's entries too), its last-seen
  time and outbox state are cleared, its guard round scans and runs deleted; archived
  digests that showed its reports are rebuilt (digests name devices by kind only, never
  by name).
- a person: deactivated, every session deleted (so ended), the e-mail address replaced by
  `raderad-ID@raderad.invalid` (in the audit log's entries, the digest's recipients and
  archived runs too), the password hash made unusable, the login brake's row for the
  address deleted. What the person did stays attributed to the anonymised account, not to
  nobody: comments, timeline decisions, named places and audit entries keep pointing at
  it (a comment or decision without an author would read as the automatic grouping's).

Each export and deletion writes an audit entry ("subject.export", "subject.delete") in the
subject's organisation, naming the device or person by id only.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import String, cast, func, inspect, or_, select

from server.audit import service as audit
from server.audit.models import AuditEntry
from server.audit.service import CLI, Actor
from server.auth import service as persons
from server.auth import throttle
from server.auth.models import LoginFailures, WorkspaceSession
from server.devices.models import Device, EnrolmentCode
from server.digest.models import DigestRun, DigestSettings
from server.domain_errors import NotFound
from server.extensions import db
from server.geography.models import NamedPlace
from server.incidents.models import IncidentEvent
from server.orgs.models import Organisation
from server.photos import service as photo_service
from server.photos.models import Photo
from server.privacy import erasure, subject_alerts
from server.reports.models import Report, ReportComment, Tombstone
from server.rounds.models import CheckpointScan, RoundRun
from sync.clock import utcnow

SCHEMA = "lagesbild.subject/1"
DEVICE_KEYS = (
    "schema",
    "exported_at",
    "subject",
    "enrolment_codes",
    "reports",
    "photos",
    "comments",
    "tombstones",
    "outbox",
    "round_runs",
    "scans",
    "audit",
)
PERSON_KEYS = (
    "schema",
    "exported_at",
    "subject",
    "sessions",
    "login_failures",
    "audit",
    "comments",
    "decisions",
    "named_places",
    "digest_recipient",
    "push_subscriptions",
    "oncall",
)
# Markers per audit query.
CHUNK = 100


def device_placeholder(device_id: int) -> str:
    """Return the name a deleted device gets."""
    return f"Raderad enhet {device_id}"


def person_placeholder(person_id: int) -> str:
    """Return the address a deleted person gets (the .invalid domain never delivers)."""
    return f"raderad-{person_id}@raderad.invalid"


def _value(value: Any) -> Any:
    """Make a column value JSON-ready (times in ISO 8601, ids as text)."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def row(obj: Any, omit: Iterable[str] = ()) -> dict[str, Any]:
    """Return every column of an ORM row but the omitted ones."""
    skip = set(omit)
    return {
        attr.key: _value(getattr(obj, attr.key))
        for attr in inspect(obj).mapper.column_attrs
        if attr.key not in skip
    }


def _org(org_id: int) -> dict[str, Any]:
    """Describe an organisation by id, slug and name."""
    org = db.session.get(Organisation, org_id)
    return {"id": org_id, "slug": org.slug if org else None, "name": org.name if org else None}


def _audit_rows(org_ids: Iterable[int], needles: Iterable[str], person_id: int | None = None):
    """Return the audit entries of the organisations whose target holds a needle, or by a person."""
    orgs = sorted(set(org_ids))
    words = sorted({n for n in needles if n})
    found: dict[int, AuditEntry] = {}
    if person_id is not None:
        for entry in db.session.scalars(
            select(AuditEntry).where(AuditEntry.person_id == person_id)
        ):
            found[entry.id] = entry
    for first in range(0, len(words), CHUNK):
        chunk = words[first : first + CHUNK]
        query = select(AuditEntry).where(
            or_(*(AuditEntry.target.contains(w, autoescape=True) for w in chunk))
        )
        if orgs:
            query = query.where(AuditEntry.org_id.in_(orgs))
        for entry in db.session.scalars(query):
            found[entry.id] = entry
    return [found[i] for i in sorted(found)]


def _device_audit(device: Device, report_ids: list[str], shas: list[str]) -> list[AuditEntry]:
    """Return the audit entries about a device: by name or id, or naming its reports or photos."""
    prefix = f"device {device.id}"
    rows = _audit_rows(erasure.partners({device.org_id}), [f"{prefix} ", *report_ids, *shas])
    exact = db.session.scalars(
        select(AuditEntry).where(AuditEntry.org_id == device.org_id, AuditEntry.target == prefix)
    )
    merged = {e.id: e for e in [*rows, *exact]}
    return [merged[i] for i in sorted(merged)]


def _of_device(model: Any, when: Any, device_id: int) -> list[Any]:
    """Return a device's rows of a table with a device_id, oldest first."""
    return list(
        db.session.scalars(select(model).where(model.device_id == device_id).order_by(when))
    )


def get_device(device_id: int) -> Device:
    """Return a device or raise NotFound."""
    device = db.session.get(Device, device_id)
    if device is None:
        raise NotFound("not_found", f"no device with id {device_id}")
    return device


# --- export -----------------------------------------------------------------------------------


def export_device(device_id: int, *, paths: bool = False, actor: Actor = CLI) -> dict[str, Any]:
    """Return everything stored about a device; `paths` adds the photo files' paths."""
    device = get_device(device_id)
    reports = list(
        db.session.scalars(
            select(Report).where(Report.device_id == device.id).order_by(Report.created_at)
        )
    )
    report_ids = [r.id for r in reports]
    named: dict[str, list[str]] = {}
    for r in reports:
        for sha in r.photos or []:
            named.setdefault(sha, []).append(str(r.id))
    photo_rows = list(
        db.session.scalars(
            select(Photo)
            .where(
                Photo.org_id == device.org_id,
                or_(Photo.uploaded_by_device_id == device.id, Photo.sha256.in_(sorted(named))),
            )
            .order_by(Photo.created_at, Photo.id)
        )
    )
    photos = []
    for p in photo_rows:
        item = row(p, omit=("storage_path",) if not paths else ())
        item["uploaded_by_this_device"] = p.uploaded_by_device_id == device.id
        item["named_by_reports"] = named.get(p.sha256, [])
        if paths:
            item["files"] = {
                size: str(photo_service.file_for(p, size)) for size in ("full", "display", "thumb")
            }
        photos.append(item)
    incident_ids = sorted({r.incident_id for r in reports if r.incident_id is not None})
    comments = (
        list(
            db.session.scalars(
                select(ReportComment)
                .where(
                    or_(
                        ReportComment.report_id.in_(report_ids),
                        ReportComment.incident_id.in_(incident_ids),
                    )
                )
                .order_by(ReportComment.created_at, ReportComment.id)
            )
        )
        if report_ids
        else []
    )
    tombstones = list(
        db.session.scalars(
            select(Tombstone).where(Tombstone.device_id == device.id).order_by(Tombstone.deleted_at)
        )
    )
    codes = db.session.scalars(
        select(EnrolmentCode).where(EnrolmentCode.device_id == device.id).order_by(EnrolmentCode.id)
    )
    entries = _device_audit(
        device,
        [str(i) for i in report_ids] + [str(t.report_id) for t in tombstones],
        sorted({p.sha256 for p in photo_rows}),
    )
    data = {
        "schema": SCHEMA,
        "exported_at": utcnow().isoformat(),
        "subject": {
            "type": "device",
            **row(device, omit=("token_hash",)),
            "org": _org(device.org_id),
        },
        "enrolment_codes": [row(c, omit=("code_hash",)) for c in codes],
        "reports": [row(r) for r in reports],
        "photos": photos,
        "comments": [
            {**row(c), "on": "report" if c.report_id is not None else "incident"} for c in comments
        ],
        "tombstones": [row(t) for t in tombstones],
        "outbox": {
            "pending": device.outbox_pending,
            "reported_at": _value(device.outbox_reported_at),
        },
        # Guard rounds (server.rounds): where and when the phone scanned checkpoints.
        "round_runs": [row(r) for r in _of_device(RoundRun, RoundRun.started_at, device.id)],
        "scans": [row(c) for c in _of_device(CheckpointScan, CheckpointScan.scanned_at, device.id)],
        "audit": [row(e) for e in entries],
    }
    audit.record(device.org_id, "subject.export", f"device {device.id}", actor)
    return data


def export_person(email: str, *, actor: Actor = CLI) -> dict[str, Any]:
    """Return everything stored about a person (found by e-mail address, any case)."""
    person = persons.find(email)
    sessions = db.session.scalars(
        select(WorkspaceSession)
        .where(WorkspaceSession.person_id == person.id)
        .order_by(WorkspaceSession.created_at)
    )
    failures = db.session.scalars(
        select(LoginFailures).where(LoginFailures.key == _account_key(person.email))
    )
    entries = _audit_rows([], [person.email], person_id=person.id)
    comments = db.session.scalars(
        select(ReportComment)
        .where(ReportComment.author_id == person.id)
        .order_by(ReportComment.created_at, ReportComment.id)
    )
    decisions = db.session.scalars(
        select(IncidentEvent)
        .where(IncidentEvent.actor_id == person.id)
        .order_by(IncidentEvent.at, IncidentEvent.id)
    )
    places = db.session.scalars(
        select(NamedPlace).where(NamedPlace.created_by == person.id).order_by(NamedPlace.id)
    )
    settings = [
        s.org_id
        for s in db.session.scalars(select(DigestSettings))
        if person.email in {r.lower() for r in s.recipients or []}
    ]
    runs = _runs_sent_to(person.email)
    data = {
        "schema": SCHEMA,
        "exported_at": utcnow().isoformat(),
        "subject": {
            "type": "person",
            **row(person, omit=("password_hash",)),
            "org": _org(person.org_id),
        },
        "sessions": [row(s, omit=("id_hash",)) for s in sessions],
        "login_failures": [row(f) for f in failures],
        "audit": [row(e) for e in entries],
        "comments": [row(c) for c in comments],
        "decisions": [row(e) for e in decisions],
        "named_places": [row(p) for p in places],
        "digest_recipient": {
            "organisations": [_org(o) for o in settings],
            "runs": [
                {"id": r.id, "org_id": r.org_id, "kind": r.kind, "day": _value(r.day)} for r in runs
            ],
        },
        # Urgent alerts (server.alerts): where the person is told, and their rota places.
        "push_subscriptions": subject_alerts.push_subscriptions(person.id),
        "oncall": subject_alerts.rota_places(person.id),
    }
    audit.record(person.org_id, "subject.export", f"person {person.id}", actor)
    return data


def _runs_sent_to(email: str) -> list[DigestRun]:
    """Return the digest runs whose recipients or last error name the address."""
    candidates = db.session.scalars(
        select(DigestRun)
        .where(
            or_(
                func.lower(cast(DigestRun.recipients, String)).contains(email, autoescape=True),
                func.lower(DigestRun.last_error).contains(email, autoescape=True),
            )
        )
        .order_by(DigestRun.id)
    )
    return list(candidates)


# --- delete -----------------------------------------------------------------------------------


def _account_key(email: str) -> str:
    """Return the login brake's key of an account (its failures counted per address)."""
    return next(iter(throttle.keys(email, None)))
