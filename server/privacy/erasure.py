"""Erasing reports: the report and every copy of it the server keeps.

An erasure (`lagesbild report delete`, the workspace's *Radera rapporten* for admins, a
subject deletion) goes through `erase_reports`:

1. it notes the report's traces first: its id, the ids of every incident it is or was in
   (the timeline names them), its photos' hashes, the start of its text and its place text;
2. `incidents.feedback.delete_report` deletes it for good: a tombstone (a resend never
   brings it back, and pulls tell its phone), its comments, an audit entry "report.delete"
   with the reason, the incident summaries recomputed from the reports left (an incident
   left empty goes), and the photo rows and files no other report names;
3. every archived digest copy (`digest_runs.html`, `.text`) that holds one of the traces,
   of the owner and of every organisation it has shared with, is rebuilt from the
   database as it is now, or removed if that fails (`server.digest.scrub`), each with an
   audit entry "digest.rebuild".

Nothing else keeps a copy on the server: exports (CSV, GeoJSON) are built per request and
never stored, there is no search index, and the workspace pages read the database.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import String, cast, select

from server.audit import service as audit
from server.audit.service import CLI, Actor
from server.digest import scrub
from server.domain_errors import Invalid
from server.extensions import db
from server.incidents import feedback
from server.incidents.models import IncidentEvent
from server.reports.models import Report
from server.sharing.models import SharingAgreement

# The reasons the workspace offers (the command line takes any short text).
ERASE_REASONS = ("erasure", "mistake", "sensitive")
REASON_MAX = 40
# Text markers: the first characters of a text as the digest shows it (at least 80 are
# shown before a cut), and texts shorter than this are not searched for (they would
# match everywhere; the report's ids still find the copies that show it).
TEXT_MARKER = 40
MIN_TEXT_MARKER = 6
# Copies stored shortly before a report arrived cannot show it; a margin for clocks.
CLOCK_MARGIN = timedelta(minutes=5)


@dataclass(frozen=True)
class Traces:
    """What may show a report in a stored copy, noted before it is deleted."""

    org_id: int
    received_at: datetime
    markers: frozenset[str]


@dataclass
class Erasure:
    """The outcome of an erasure: the reports deleted and the digest copies handled."""

    reports: list[str]
    reason: str
    digests: list[scrub.Rebuilt] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        """Describe the outcome for the command line's JSON."""
        return {
            "reports": self.reports,
            "reason": self.reason,
            "digests_rebuilt": [d.run_id for d in self.digests if d.outcome == "rebuilt"],
            "digests_removed": [d.run_id for d in self.digests if d.outcome == "removed"],
        }


def check_reason(reason: str) -> str:
    """Return the reason trimmed, or raise Invalid for an empty or too long one."""
    reason = " ".join((reason or "").split())
    if not reason or len(reason) > REASON_MAX:
        raise Invalid("invalid_reason", f"the reason must be 1–{REASON_MAX} characters")
    return reason


def text_markers(*texts: str | None) -> set[str]:
    """Return the starts of texts as a digest shows them (flattened) and as written."""
    out = set()
    for text in texts:
        for form in (" ".join((text or "").split()), (text or "").strip()):
            if len(form) >= MIN_TEXT_MARKER:
                out.add(form[:TEXT_MARKER])
    return out


def traces_of(report: Report) -> Traces:
    """Note the traces a report may have left in stored copies."""
    markers = {str(report.id), *(report.photos or [])}
    if report.incident_id is not None:
        markers.add(str(report.incident_id))
    markers |= past_incidents(report.id)
    markers |= text_markers(report.description, report.place)
    return Traces(report.org_id, report.received_at, frozenset(markers))


def past_incidents(report_id: uuid.UUID) -> set[str]:
    """Return the ids of incidents the report was moved or merged in or out of."""
    needle = str(report_id)
    out: set[str] = set()
    rows = db.session.execute(
        select(IncidentEvent.incident_id, IncidentEvent.data).where(
            cast(IncidentEvent.data, String).contains(needle, autoescape=True)
        )
    )
    for incident_id, data in rows:
        out.add(str(incident_id))
        for key in ("source", "target"):
            value = (data or {}).get(key)
            if isinstance(value, str) and _is_uuid(value):
                out.add(value)
    return out


def _is_uuid(value: str) -> bool:
    """Tell whether a text is a UUID."""
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def partners(org_ids: Iterable[int]) -> set[int]:
    """Return the organisations and every one they have ever shared with (revoked too)."""
    owners = set(org_ids)
    if not owners:
        return set()
    rows = db.session.scalars(
        select(SharingAgreement.to_org_id).where(SharingAgreement.from_org_id.in_(sorted(owners)))
    )
    return owners | set(rows)


def erase_report(report_id: uuid.UUID, reason: str, actor: Actor = CLI) -> Erasure:
    """Erase one report everywhere (raises NotFound for an unknown one, changing nothing)."""
    return erase_reports([report_id], reason, actor)


def erase_reports(report_ids: Sequence[uuid.UUID], reason: str, actor: Actor = CLI) -> Erasure:
    """Erase reports and rebuild every archived digest copy that may show them."""
    reason = check_reason(reason)
    traces = delete_reports(report_ids, reason, actor)
    erasure = Erasure([str(r) for r in report_ids], reason)
    erasure.digests = scrub_digests(traces, actor)
    return erasure


def delete_reports(
    report_ids: Sequence[uuid.UUID], reason: str, actor: Actor = CLI
) -> list[Traces]:
    """Delete reports for good (as `feedback.delete_report`); return their traces.

    Every report is looked up first, so an unknown id raises NotFound with nothing deleted.
    The archived digests are the caller's next step (`scrub_digests`).
    """
    reason = check_reason(reason)
    traces = [traces_of(feedback.get(rid)) for rid in report_ids]
    db.session.commit()
    for rid in report_ids:
        feedback.delete_report(rid, reason, actor)
    return traces


def scrub_digests(traces: Sequence[Traces], actor: Actor = CLI) -> list[scrub.Rebuilt]:
    """Rebuild the archived digest copies that hold any of the traces; audit each."""
    if not traces:
        return []
    needles = set().union(*(t.markers for t in traces))
    # Only copies stored after the earliest report arrived can show the reports.
    since = min(t.received_at for t in traces) - CLOCK_MARGIN
    run_ids = scrub.runs_showing(partners({t.org_id for t in traces}), since, needles)
    db.session.commit()
    base_url = current_app.config["BASE_URL"]
    done = []
    for run_id in run_ids:
        result = scrub.rebuild(run_id, base_url)
        if result is None:
            continue
        target = f"run {result.run_id} {result.kind} {result.day} {result.outcome}"
        audit.record(result.org_id, "digest.rebuild", target, actor)
        done.append(result)
    return done
