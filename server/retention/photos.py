"""Photos no report names: found by one read pass, deleted in short fenced batches.

A report names its photos in a JSON list, which no index covers, so "is this photo named?"
asked per photo would scan the reports once per photo. Instead one read pass collects every
named hash (`scan_names`); the photos are then walked in id order against that set, and
each batch of candidates is checked again, under the change counter lock, against only
the reports changed since the pass (a push naming the photo meanwhile keeps it).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select

from server.actions.queries import after_photos
from server.extensions import db
from server.orgs.counter import lock_counter
from server.orgs.models import ChangeCounter
from server.photos.models import Photo
from server.reports.models import Report

# Rows fetched at a time while reading the reports' photo lists.
SCAN_CHUNK = 2000


@dataclass
class Names:
    """The photos the organisation's reports name, and the change number they were read at."""

    kept: set[str]  # named by reports that keep their photos
    released: set[str]  # named only by reports created before the split (a dry run's texts)
    seq: int


def scan_names(org_id: int, split_before: datetime | None = None) -> Names:
    """Read every photo hash the organisation's reports name (run in a read phase).

    With `split_before`, hashes of reports created before it count as released (a dry run:
    the purge would clear those reports' photos) unless a later report names them too.
    """
    # The counter first: a report written after it has a larger change number, so the
    # batches can find whatever the pass missed.
    seq = int(
        db.session.scalar(select(ChangeCounter.value).where(ChangeCounter.org_id == org_id)) or 0
    )
    kept: set[str] = set()
    released: set[str] = set()
    rows = db.session.execute(
        select(Report.created_at, Report.photos)
        .where(Report.org_id == org_id, Report.text_purged_at.is_(None))
        .execution_options(yield_per=SCAN_CHUNK)
    )
    for created_at, photos in rows:
        if not photos:
            continue
        if split_before is not None and created_at < split_before:
            released.update(photos)
        else:
            kept.update(photos)
    # An action's after-photo is named by the action, not a report: the purge keeps it.
    kept.update(after_photos(org_id))
    return Names(kept, released - kept, seq)


@dataclass(frozen=True)
class Candidate:
    """A photo no report names, about to be deleted."""

    sha256: str
    released: bool  # its last report was purged (else an upload never named, or edited out)


def candidates(
    org_id: int,
    names: Names,
    released: set[str],
    grace_before: datetime,
    after_id: int,
    limit: int,
) -> tuple[list[Candidate], int | None]:
    """Return the next page of the organisation's photos (by id) that no report names.

    A photo the purge released goes at once; any other unnamed photo only once it is older
    than the grace period (its report may still be on its way from the phone). Returns the
    candidates and the last id looked at (None when there are no more photos).
    """
    rows = db.session.execute(
        select(Photo.id, Photo.sha256, Photo.created_at)
        .where(Photo.org_id == org_id, Photo.id > after_id)
        .order_by(Photo.id)
        .limit(limit)
    ).all()
    if not rows:
        return [], None
    found = [
        Candidate(sha, sha in released)
        for _id, sha, created_at in rows
        if sha not in names.kept and (sha in released or created_at < grace_before)
    ]
    return found, rows[-1].id


def delete_unnamed(org_id: int, found: Iterable[Candidate], since_seq: int) -> list[Candidate]:
    """Delete the candidates' rows unless a report changed since `since_seq` names them.

    Takes the change counter lock, so no push can name a photo between the check and the
    delete. The files go after the commit (`photos.service.delete_files`).
    """
    found = list(found)
    if not found:
        return []
    lock_counter(org_id)
    renamed: set[str] = set()
    for (photos,) in db.session.execute(
        select(Report.photos).where(Report.org_id == org_id, Report.change_seq > since_seq)
    ):
        renamed.update(photos or [])
    doomed = [c for c in found if c.sha256 not in renamed]
    if doomed:
        db.session.execute(
            delete(Photo)
            .where(Photo.org_id == org_id, Photo.sha256.in_([c.sha256 for c in doomed]))
            .execution_options(synchronize_session=False)
        )
    return doomed


def count_unnamed(
    org_id: int, names: Names, released: set[str], grace_before: datetime
) -> tuple[int, int]:
    """Count the photos a purge would delete: (released by it, unnamed past the grace)."""
    by_release = orphans = 0
    rows = db.session.execute(
        select(Photo.sha256, Photo.created_at)
        .where(Photo.org_id == org_id)
        .execution_options(yield_per=SCAN_CHUNK)
    )
    for sha, created_at in rows:
        if sha in names.kept:
            continue
        if sha in released:
            by_release += 1
        elif created_at < grace_before:
            orphans += 1
    return by_release, orphans
