"""The retention rules: what one organisation's purge removes at a moment, and doing it.

In this order, each step in batches that are short write transactions of their own:

1. reports created more than `report_days` ago are deleted, leaving tombstones;
2. reports created more than `text_days` ago lose their free text (description, place
   text) and photos, and the coordinators' comments on them;
3. photos no report names any more are deleted: at once when the purge released them,
   after the grace period (`PHOTO_GRACE_HOURS`) when never named or edited out;
4. archived digest copies that quote texts cleared since they were written are rebuilt
   without them (`server.retention.digests`);
5. audit entries older than `audit_days`, archived digests due more than `digest_days` ago;
6. guard rounds' checkpoint scans and round runs older than `report_days`, and urgent
   alerts (with their deliveries) opened before then or whose incident is gone
   (`server.retention.guarding`; the alerts go first, before step 1 empties incidents).

Every batch renews the run's lease and stores the run's counts in the same transaction
(`runs.fenced_update`), so a worker that lost its lease changes nothing more, and whoever
takes over a dead holder's run continues its counts. `preview` (a dry run) counts the same
things without changing anything.
"""

from __future__ import annotations

import threading
import time as time_mod
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask import current_app

from analysis.calendar import STOCKHOLM
from server.audit import service as audit
from server.db import phase
from server.digest import scrub
from server.extensions import db
from server.orgs.models import Organisation
from server.photos import service as photo_service
from server.retention import batches, digests, guarding, runs
from server.retention import photos as sweep
from server.retention.settings import periods_of

# Rows per write transaction: a first purge of a big store holds the write lock this
# long at a time, and pushes get their turn between batches.
BATCH = 500
# Between write batches (long reads), the lease is renewed once this much has passed.
RENEW_AFTER = runs.LEASE / 5
# Archived copies looked up at a time (each one is rebuilt on its own).
COPY_BATCH = 50
COUNT_KEYS = (
    "reports_purged",
    "texts_cleared",
    "comments_deleted",
    "photos_deleted",
    "orphan_photos_deleted",
    "digest_copies_rebuilt",
    "audit_deleted",
    "digests_deleted",
    "scans_deleted",
    "round_runs_deleted",
    "alerts_deleted",
    "alert_deliveries_deleted",
)
Counts = dict[str, int]


class LeaseLost(RuntimeError):
    """Another process took the run over: this one stops, its last batch rolled back."""


class Interrupted(RuntimeError):
    """The process is stopping: the purge ends between two batches."""


@dataclass(frozen=True)
class Cutoffs:
    """The moments before which a purge at `now` removes each kind of data."""

    report_before: datetime
    text_before: datetime
    audit_before: datetime
    digest_before: date  # archived digests due before this local day
    grace_before: datetime  # unnamed photos uploaded before this


def cutoffs(org: Organisation, now: datetime) -> Cutoffs:
    """Return the organisation's cutoffs at `now`."""
    p = periods_of(org)
    grace = timedelta(hours=int(current_app.config["PHOTO_GRACE_HOURS"]))
    return Cutoffs(
        report_before=now - timedelta(days=p.report_days),
        text_before=now - timedelta(days=p.text_days),
        audit_before=now - timedelta(days=p.audit_days),
        digest_before=now.astimezone(STOCKHOLM).date() - timedelta(days=p.digest_days),
        grace_before=now - grace,
    )


def empty_counts() -> Counts:
    """Return zero for every count."""
    return dict.fromkeys(COUNT_KEYS, 0)


def total(counts: Counts) -> int:
    """Return how many things a purge removed or cleared in all."""
    return sum(int(counts.get(k, 0)) for k in COUNT_KEYS)


def summary(counts: Counts) -> str:
    """Return the counts in one short line (the audit log, the CLI)."""
    return " ".join(f"{k}={int(counts.get(k, 0))}" for k in COUNT_KEYS)


def organisation(org_id: int) -> Organisation:
    """Load an organisation or raise LookupError."""
    org = db.session.get(Organisation, org_id)
    if org is None:
        raise LookupError(f"no organisation {org_id}")
    return org


@dataclass
class Progress:
    """A purge under way: its run, holder and clock; the run's counts and this holder's."""

    run_id: int
    owner: str
    clock: Callable[[], datetime]
    run_counts: Counts  # the day's run, earlier holders included (stored on the row)
    counts: Counts = field(default_factory=empty_counts)  # what this holder did
    stop: threading.Event | None = None  # set when the process is shutting down
    renewed: float = field(default_factory=time_mod.monotonic)  # the last lease renewal

    def add(self, **more: int) -> int:
        """Add to both counts; return the first number given (the batch's size)."""
        for key, n in more.items():
            self.run_counts[key] += n
            self.counts[key] += n
        return next(iter(more.values()))


def purge(
    run_id: int,
    org_id: int,
    now: datetime,
    owner: str,
    *,
    batch: int = BATCH,
    stop: threading.Event | None = None,
) -> Progress:
    """Purge the organisation as of `now` under the run's lease (claimed by the caller).

    Raises LeaseLost when another process took the run over, Interrupted when `stop` is
    set; after any error the batches already committed stay done (and counted on the run).
    """
    started = time_mod.monotonic()

    def clock() -> datetime:
        return now + timedelta(seconds=time_mod.monotonic() - started)

    stored = runs.load(run_id).counts or {}
    run_counts = {**empty_counts(), **{k: int(stored.get(k, 0)) for k in COUNT_KEYS}}
    progress = Progress(run_id, owner, clock, run_counts, stop=stop)
    with phase("read"):
        cut = cutoffs(organisation(org_id), now)
    released: set[str] = set()

    def reports_step() -> int:
        n, comments = batches.delete_reports(org_id, cut.report_before, batch, now, released)
        return progress.add(reports_purged=n, comments_deleted=comments)

    def texts_step() -> int:
        n, comments = batches.clear_texts(org_id, cut.text_before, batch, now, released)
        return progress.add(texts_cleared=n, comments_deleted=comments)

    def audit_step() -> int:
        return progress.add(audit_deleted=batches.delete_audit(org_id, cut.audit_before, batch))

    def digest_step() -> int:
        n = batches.delete_digest_runs(org_id, cut.digest_before, batch)
        return progress.add(digests_deleted=n)

    def alerts_step() -> int:
        n, deliveries = guarding.delete_alerts(org_id, cut.report_before, batch)
        return progress.add(alerts_deleted=n, alert_deliveries_deleted=deliveries)

    def scans_step() -> int:
        return progress.add(scans_deleted=guarding.delete_scans(org_id, cut.report_before, batch))

    def runs_step() -> int:
        n = guarding.delete_runs(org_id, cut.report_before, batch)
        return progress.add(round_runs_deleted=n)

    # Alerts first: emptied incidents would otherwise take theirs along uncounted.
    _repeat(progress, alerts_step, batch)
    _repeat(progress, reports_step, batch)
    _repeat(progress, texts_step, batch)
    _sweep_photos(progress, org_id, cut, released, batch)
    _rebuild_copies(progress, org_id, cut.text_before)
    _repeat(progress, audit_step, batch)
    _repeat(progress, digest_step, batch)
    _repeat(progress, scans_step, batch)
    _repeat(progress, runs_step, batch)
    return progress


def _repeat(progress: Progress, step: Callable[[], int], batch: int) -> None:
    """Run a step's batches until one comes back short, each in its own transaction."""
    while _fenced(progress, step) >= batch:
        pass


def _fenced(progress: Progress, step: Callable[[], int]) -> int:
    """Run one batch and renew the lease with the new counts, in one transaction."""
    if progress.stop is not None and progress.stop.is_set():
        raise Interrupted(f"purge run {progress.run_id}: stopped between batches")
    before = dict(progress.run_counts), dict(progress.counts)
    try:
        with phase("write"):
            done = step()
            if not runs.fenced_update(
                progress.run_id,
                progress.owner,
                counts=dict(progress.run_counts),
                lease_until=progress.clock() + runs.LEASE,
            ):
                raise LeaseLost(f"purge run {progress.run_id}: the lease passed to another process")
    except BaseException:
        progress.run_counts, progress.counts = before  # the batch was rolled back
        raise
    progress.renewed = time_mod.monotonic()
    return done


def _rebuild_copies(progress: Progress, org_id: int, text_before: datetime) -> None:
    """Rebuild the archived digest copies that quote texts cleared since they were written."""
    base_url = current_app.config["BASE_URL"]
    after_id = 0
    while True:
        _keep_lease(progress)
        with phase("read"):
            found = digests.stale_copies(org_id, text_before, after_id, COPY_BATCH)
        for run_id in found:
            after_id = run_id
            # Each rebuild is its own transactions (a digest is built, then written); the
            # count and the lease follow in one fenced batch, so a lost lease stops here.
            # A copy that fails is kept as it was and tried again by the next purge.
            done = scrub.rebuild(run_id, base_url, scrub.EXPIRED_NOTICE, keep_on_error=True)
            rebuilt = int(done is not None and done.outcome == "rebuilt")
            _fenced(progress, lambda n=rebuilt: progress.add(digest_copies_rebuilt=n))
        if len(found) < COPY_BATCH:
            return


def _keep_lease(progress: Progress) -> None:
    """Renew the lease during long reads (the photo sweep), well before it runs out."""
    if time_mod.monotonic() - progress.renewed > RENEW_AFTER.total_seconds():
        _fenced(progress, lambda: 0)


def _sweep_photos(
    progress: Progress, org_id: int, cut: Cutoffs, released: set[str], batch: int
) -> None:
    """Delete the photos no report names (released ones at once, others after the grace)."""
    with phase("read"):
        names = sweep.scan_names(org_id)
    after_id = 0
    while True:
        _keep_lease(progress)
        with phase("read"):
            found, last = sweep.candidates(
                org_id, names, released, cut.grace_before, after_id, batch
            )
        if last is None:
            return
        after_id = last
        if not found:
            continue
        gone: list[sweep.Candidate] = []

        def step(found: list[sweep.Candidate] = found, gone: list[sweep.Candidate] = gone) -> int:
            gone[:] = sweep.delete_unnamed(org_id, found, names.seq)
            by_release = sum(1 for c in gone if c.released)
            progress.add(photos_deleted=by_release, orphan_photos_deleted=len(gone) - by_release)
            return len(gone)

        _fenced(progress, step)
        # Files go after the commit: a failed commit must not leave rows without files.
        photo_service.delete_files(org_id, [c.sha256 for c in gone])


def finish(progress: Progress, org_id: int, how: str) -> bool:
    """Mark the run done and write the audit entry; False if the lease had gone."""
    with phase("write"):
        ok = runs.fenced_update(
            progress.run_id,
            progress.owner,
            status="done",
            counts=dict(progress.run_counts),
            finished_at=progress.clock(),
            lease_owner=None,
            lease_until=None,
            last_error=None,
        )
        if ok:
            audit.add(org_id, "retention.purge", f"{how} {summary(progress.counts)}")
    return ok


def fail(run_id: int, owner: str, at: datetime, error: str) -> None:
    """Mark the run failed; a later tick tries again after RETRY_AFTER."""
    with phase("write"):
        runs.fenced_update(
            run_id,
            owner,
            status="failed",
            last_error=error[:500],
            finished_at=at,
            lease_owner=None,
            lease_until=at + runs.RETRY_AFTER,
        )


def release(run_id: int, owner: str) -> None:
    """Give up the run's lease at once, so the next tick anywhere takes it over."""
    with phase("write"):
        runs.fenced_update(run_id, owner, lease_owner=None, lease_until=None)
