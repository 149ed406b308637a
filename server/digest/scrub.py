"""Archived digests after an erasure: find the stored copies that may show it, rebuild them.

A sent digest keeps its rendered copy (`DigestRun.html` for the workspace, `DigestRun.text`,
the plain-text part). When a report is erased (or a device or person is anonymised), every
stored copy that could show it is rebuilt from the database as it is now, where the report
no longer exists: its text, place text and photos are then gone from the copy. A copy that
cannot be rebuilt (an error) is removed instead, never kept as it was.

Which copies: those of the organisations given (the owner and every organisation it has
ever shared with), stored at or after `since` (a copy stored before the report arrived
cannot show it), whose HTML or text holds one of the markers (the report's and its
incidents' ids, its photos' hashes, the start of its text, its place text; the HTML form
is matched escaped as the renderer writes it). A marker that matches more than the erased
report only costs an extra rebuild.

The e-mails already delivered are outside the server's reach.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from markupsafe import escape
from sqlalchemy import or_, select, update

from server.db import phase
from server.digest.content import build_digest
from server.digest.models import DigestRun
from server.digest.render import Text, render
from server.extensions import db
from sync.clock import utcnow

log = logging.getLogger("lagesbild.digest")

# Markers per query (each is two LIKE conditions per column).
MARKER_CHUNK = 50
NOTICE = "digest.archive.erased"
EXPIRED_NOTICE = "digest.archive.expired"


@dataclass(frozen=True)
class Rebuilt:
    """One stored copy handled: rebuilt from the database, or removed when that failed."""

    run_id: int
    org_id: int
    kind: str
    day: str
    outcome: str  # "rebuilt" | "removed" | "failed" (kept as it was, tried again later)


def forms(markers: Iterable[str]) -> list[str]:
    """Return each marker as plain text and as the HTML renderer escapes it."""
    out: set[str] = set()
    for marker in markers:
        if marker:
            out.add(marker)
            out.add(str(escape(marker)))
    return sorted(out)


def runs_showing(
    org_ids: Iterable[int], since: datetime | None, markers: Iterable[str]
) -> list[int]:
    """Return the ids of the runs whose stored copy holds any of the markers."""
    orgs = sorted(set(org_ids))
    needles = forms(markers)
    if not orgs or not needles:
        return []
    stored = or_(DigestRun.html.is_not(None), DigestRun.text.is_not(None))
    base = [DigestRun.org_id.in_(orgs), stored]
    if since is not None:
        base.append(DigestRun.updated_at >= since)
    found: set[int] = set()
    for first in range(0, len(needles), MARKER_CHUNK):
        chunk = needles[first : first + MARKER_CHUNK]
        holds = or_(
            *(DigestRun.html.contains(n, autoescape=True) for n in chunk),
            *(DigestRun.text.contains(n, autoescape=True) for n in chunk),
        )
        found.update(db.session.scalars(select(DigestRun.id).where(*base, holds)))
    return sorted(found)


def rebuild(
    run_id: int, base_url: str, notice_key: str = NOTICE, *, keep_on_error: bool = False
) -> Rebuilt | None:
    """Rebuild one run's stored copy from the database as it is now (None: no copy).

    The copy is rendered for the workspace (images as workspace addresses) with a notice
    saying why it was rebuilt (`notice_key`: after an erasure, or after the retention
    period of free text); its plain text replaces the stored one. The subject as sent
    stays (it holds counts, never free text). `updated_at` records when the copy was
    written, which the retention purge uses to know which copies may still quote old text.
    """
    with phase("read"):
        run = db.session.get(DigestRun, run_id, populate_existing=True)
        if run is None or (run.html is None and run.text is None):
            return None
        org_id, kind, day, lang = run.org_id, run.kind, run.day, run.lang
        # The moment the copy described: device states reported later are not used.
        moment: datetime = run.sent_at or run.updated_at
    outcome = "rebuilt"
    try:
        with phase("read"):
            digest = build_digest(org_id, kind, day, now=moment)
        notice = Text(lang, digest)(notice_key)
        rendered = render(digest, lang, base_url=base_url, image_mode="url", notice=notice)
        html, text = rendered.html, rendered.text
    except Exception:
        # An erased report must not stay in a copy: the copy goes. Text past its period
        # (`keep_on_error`) may wait for the next purge rather than lose a sent archive to a
        # passing error; the copy is then left as it is, to be tried again.
        if keep_on_error:
            log.exception("digest run %s: rebuilding failed (%s); kept for now", run_id, notice_key)
            return Rebuilt(run_id, org_id, kind, day.isoformat(), "failed")
        log.exception("digest run %s: rebuilding failed (%s); copy removed", run_id, notice_key)
        html = text = None
        outcome = "removed"
    with phase("write"):
        db.session.execute(
            update(DigestRun)
            .where(DigestRun.id == run_id)
            .values(html=html, text=text, updated_at=utcnow())
        )
    return Rebuilt(run_id, org_id, kind, day.isoformat(), outcome)
