"""Delete or anonymise everything stored about a device or a person, on request.

The export is `server.privacy.subject`; this is the other half of a subject request, and
uses the same helpers (placeholders, the audit search, the digest runs sent to a person).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import delete, select

from server.alerts.models import OnCallMember, PushSubscription
from server.audit import service as audit
from server.audit.service import CLI, Actor
from server.auth import service as persons
from server.auth.models import LoginFailures, WorkspaceSession
from server.devices.models import EnrolmentCode
from server.digest.models import DigestSettings
from server.extensions import db
from server.photos import service as photo_service
from server.photos.models import Photo
from server.privacy import erasure
from server.privacy.subject import (
    _account_key,
    _audit_rows,
    _runs_sent_to,
    device_placeholder,
    get_device,
    person_placeholder,
)
from server.reports.models import Report
from server.rounds.models import CheckpointScan, RoundRun
from sync.clock import utcnow


def delete_device(device_id: int, actor: Actor = CLI) -> dict[str, Any]:
    """Erase a device's reports and anonymise the device; return what was done."""
    device = get_device(device_id)
    org_id, name = device.org_id, device.display_name
    report_ids = list(
        db.session.scalars(
            select(Report.id).where(Report.device_id == device.id).order_by(Report.created_at)
        )
    )
    uploaded = list(
        db.session.scalars(
            select(Photo.sha256).where(
                Photo.org_id == org_id, Photo.uploaded_by_device_id == device.id
            )
        )
    )
    traces = erasure.delete_reports(report_ids, "erasure", actor)
    placeholder = device_placeholder(device.id)
    device = get_device(device_id)
    device.display_name = placeholder
    device.token_hash = None
    device.revoked_at = device.revoked_at or utcnow()
    device.last_seen_at = None
    device.outbox_pending = None
    device.outbox_reported_at = None
    db.session.execute(delete(EnrolmentCode).where(EnrolmentCode.device_id == device.id))
    # Its guard round scans and runs: where and when the phone was, like its reports.
    scans = db.session.execute(delete(CheckpointScan).where(CheckpointScan.device_id == device.id))
    runs = db.session.execute(delete(RoundRun).where(RoundRun.device_id == device.id))
    renamed = _replace_in_audit(
        erasure.partners({org_id}),
        f"device {device.id} {name}",
        f"device {device.id} {placeholder}",
    )
    orphans = photo_service.forget_unreferenced(org_id, uploaded)
    audit.add(
        org_id,
        "subject.delete",
        f"device {device.id} reports={len(report_ids)} photos={len(orphans)}",
        actor,
    )
    db.session.commit()
    photo_service.delete_files(org_id, orphans)
    # Digests name devices by kind only: the erased reports are what they may show.
    digests = erasure.scrub_digests(traces, actor)
    return {
        "device": device.id,
        "name": placeholder,
        "reports_erased": [str(r) for r in report_ids],
        "photos_deleted": orphans,
        "scans_deleted": scans.rowcount,
        "round_runs_deleted": runs.rowcount,
        "audit_entries_renamed": renamed,
        "digests_rebuilt": [d.run_id for d in digests if d.outcome == "rebuilt"],
        "digests_removed": [d.run_id for d in digests if d.outcome == "removed"],
    }


def delete_person(email: str, actor: Actor = CLI) -> dict[str, Any]:
    """Anonymise a person: deactivated, sessions gone, the address replaced everywhere."""
    person = persons.find(email)
    old = person.email
    placeholder = person_placeholder(person.id)
    sessions = db.session.execute(
        delete(WorkspaceSession).where(WorkspaceSession.person_id == person.id)
    ).rowcount
    db.session.execute(delete(LoginFailures).where(LoginFailures.key == _account_key(old)))
    # Urgent alerts: the person's browsers (push endpoints and keys) and rota places go.
    db.session.execute(delete(PushSubscription).where(PushSubscription.person_id == person.id))
    db.session.execute(delete(OnCallMember).where(OnCallMember.person_id == person.id))
    person.email = placeholder
    person.password_hash = "!erased"  # noqa: S105 - not a hash: no password ever matches it
    person.active = False
    renamed = _replace_in_audit([], old, placeholder)
    recipients = 0
    for settings in db.session.scalars(select(DigestSettings)):
        kept = [r for r in settings.recipients or [] if r.lower() != old]
        if len(kept) != len(settings.recipients or []):
            settings.recipients = kept
            recipients += 1
    runs = _runs_sent_to(old)
    for run in runs:
        run.recipients = [placeholder if r.lower() == old else r for r in run.recipients or []]
        if run.last_error:
            run.last_error = _replace_ci(run.last_error, old, placeholder)
    audit.add(person.org_id, "subject.delete", f"person {person.id}", actor)
    db.session.commit()
    return {
        "person": person.id,
        "email": placeholder,
        "sessions_deleted": int(sessions or 0),
        "audit_entries_renamed": renamed,
        "digest_settings_changed": recipients,
        "digest_runs_changed": len(runs),
    }


def _replace_ci(text: str, old: str, new: str) -> str:
    """Replace every occurrence of `old` in any case."""
    lowered, out, start = text.lower(), [], 0
    needle = old.lower()
    while (found := lowered.find(needle, start)) >= 0:
        out += [text[start:found], new]
        start = found + len(needle)
    return "".join(out) + text[start:]


def _replace_in_audit(org_ids: Iterable[int], old: str, new: str) -> int:
    """Replace a text in the audit entries' targets (of the organisations; all if none)."""
    count = 0
    for entry in _audit_rows(org_ids, [old]):
        changed = _replace_ci(entry.target, old, new)[: audit.TARGET_MAX]
        if changed != entry.target:
            entry.target = changed
            count += 1
    return count
