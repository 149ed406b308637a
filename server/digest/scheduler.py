"""Sending each digest exactly once: due runs, a lease in the database, retries, catch-up.

Every gunicorn worker on every host runs `tick()` once a minute (APScheduler). There is no
elected "scheduler process"; the database decides:

1. **One row per digest.** A due digest is a `DigestRun` row, unique on
   (org_id, kind, day). Every worker may try to insert it; the unique constraint lets one
   insert win and the others catch IntegrityError and use the winner's row.
2. **One sender per row.** A worker sends only after a compare-and-set UPDATE that moves
   the row from pending/failed (due) — or from sending with an expired lease — to
   "sending", with lease_owner = host:pid and lease_until = now + LEASE. The UPDATE's
   WHERE re-checks those conditions under the row's write lock (BEGIN IMMEDIATE on SQLite;
   row locks and re-evaluation in PostgreSQL's READ COMMITTED), so exactly one concurrent
   UPDATE matches and sees rowcount 1; the others see 0 and leave the row alone.
3. **Fenced finish.** The winner renews its lease just before talking SMTP (and stops if it
   lost it), and marks the row sent/failed with `WHERE lease_owner = me`.

The one window left: a process that dies after the SMTP server accepted the message but
before the "sent" commit leaves a "sending" row whose lease expires; another worker then
sends it again. That duplicate carries the same Message-ID (see docs/operations.md).
"""

from __future__ import annotations

import logging
import os
import random
import socket
import threading
import time as time_mod
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import click
from flask import Flask, current_app
from sqlalchemy import and_, case, or_, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.sql.elements import ColumnElement

from server.db import phase
from server.digest import delivery
from server.digest import service as settings_service
from server.digest.models import DIGEST_KINDS, DigestRun, DigestSettings
from server.extensions import db
from sync.clock import utcnow

log = logging.getLogger("lagesbild.digest")

# A claimed run belongs to its sender this long; renewed just before the SMTP conversation.
LEASE = timedelta(minutes=5)
# Retries after a failed attempt: 1, 2, 4 … minutes, at most an hour apart; after
# MAX_ATTEMPTS attempts the run stays "failed" (visible in the workspace) until someone
# sends it again by hand.
BACKOFF_MAX = timedelta(minutes=60)
MAX_ATTEMPTS = 10
# Catch-up: after downtime only the latest missed run of each kind is created, and only
# while it is this recent (older ones are skipped; they can still be sent by hand).
CATCH_UP = {
    "night": timedelta(hours=24),
    "week": timedelta(days=7),
    "month": timedelta(days=31),
}
# A run created this long after its scheduled time is marked late (the tick runs every
# minute; more than a few minutes means the server was down or stalled).
LATE_AFTER = timedelta(minutes=10)
TICK_SECONDS = 60


def process_owner() -> str:
    """Return this process's lease name: host and process id."""
    return f"{socket.gethostname()}:{os.getpid()}"[:200]


def backoff(attempts: int) -> timedelta:
    """Return the wait after the given number of failed attempts (1, 2, 4 … 60 minutes)."""
    return min(BACKOFF_MAX, timedelta(minutes=2 ** max(0, attempts - 1)))


# --- when digests are due -------------------------------------------------------------------


@dataclass(frozen=True)
class Slot:
    """One due digest: its kind, its local due date and the moment it is due."""

    kind: str
    day: date
    scheduled_for: datetime  # aware


def _first_of_previous_month(day: date) -> date:
    first = day.replace(day=1)
    return (first - timedelta(days=1)).replace(day=1)


def due_day(kind: str, day: date) -> date:
    """Return the due date of the `kind` digest on or before `day` (Monday, the 1st)."""
    if kind == "night":
        return day
    if kind == "week":
        return day - timedelta(days=day.weekday())
    if kind == "month":
        return day.replace(day=1)
    raise ValueError(f"unknown digest kind {kind!r}; use one of {', '.join(DIGEST_KINDS)}")


def slot_for(kind: str, day: date, send_time: time, tz: ZoneInfo) -> Slot:
    """Return the slot of the `kind` digest due on `day` (which must be a due date)."""
    return Slot(kind, day, datetime.combine(day, send_time, tzinfo=tz))


def latest_slot(kind: str, send_time: time, tz: ZoneInfo, now: datetime) -> Slot:
    """Return the latest slot of `kind` due at or before `now`."""
    local_day = now.astimezone(tz).date()
    day = due_day(kind, local_day)
    slot = slot_for(kind, day, send_time, tz)
    if slot.scheduled_for > now:
        if kind == "night":
            day -= timedelta(days=1)
        elif kind == "week":
            day -= timedelta(days=7)
        else:
            day = _first_of_previous_month(day)
        slot = slot_for(kind, day, send_time, tz)
    return slot


def kinds_of(row: DigestSettings) -> list[str]:
    """Return the digest kinds the organisation receives."""
    kinds = ["night"]
    if row.weekly_enabled:
        kinds.append("week")
    if row.monthly_enabled:
        kinds.append("month")
    return kinds


def due_slots(row: DigestSettings, now: datetime) -> list[Slot]:
    """Return the slots that should have a run by `now` (the latest per kind, if recent)."""
    tz = settings_service.parse_timezone(row.timezone)
    send_time = settings_service.parse_send_time(row.send_time)
    slots = []
    for kind in kinds_of(row):
        slot = latest_slot(kind, send_time, tz, now)
        if now - slot.scheduled_for > CATCH_UP[kind]:
            continue
        if row.enabled_at is not None and slot.scheduled_for < row.enabled_at:
            continue  # due before the digest was switched on
        slots.append(slot)
    return slots


def period_of(kind: str, day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """Return the period the digest due on `day` covers (from server.digest.content)."""
    from server.digest import content

    return content.period_for(kind, day, tz)


# --- rows and leases ------------------------------------------------------------------------


def ensure_run(
    org_id: int,
    slot: Slot,
    tz: ZoneInfo,
    now: datetime,
    *,
    lang: str,
    recipients: list[str],
    manual: bool = False,
) -> int:
    """Return the id of the slot's run, inserting it if missing (the unique key decides)."""
    existing = _run_id(org_id, slot.kind, slot.day)
    if existing is not None:
        return existing
    start, end = period_of(slot.kind, slot.day, tz)
    late = not manual and now - slot.scheduled_for > LATE_AFTER
    try:
        with phase("write"):
            run = DigestRun(
                org_id=org_id,
                kind=slot.kind,
                day=slot.day,
                period_start=start,
                period_end=end,
                status="pending",
                scheduled_for=slot.scheduled_for,
                late=late,
                manual=manual,
                attempts=0,
                next_attempt_at=now,
                lang=lang,
                recipients=list(recipients),
                created_at=now,
                updated_at=now,
            )
            db.session.add(run)
            db.session.flush()
            run_id = run.id
        if late:
            log.warning("digest %s of org %s due %s: late (catch-up)", slot.kind, org_id, slot.day)
        return run_id
    except IntegrityError:
        # Another worker or host inserted the same run first: use theirs.
        found = _run_id(org_id, slot.kind, slot.day)
        if found is None:  # pragma: no cover - the unique key said it exists
            raise
        return found


def _run_id(org_id: int, kind: str, day: date) -> int | None:
    with phase("read"):
        return db.session.scalar(
            select(DigestRun.id).where(
                DigestRun.org_id == org_id, DigestRun.kind == kind, DigestRun.day == day
            )
        )


def _lease_expired(now: datetime) -> ColumnElement[bool]:
    return and_(
        DigestRun.status == "sending",
        or_(DigestRun.lease_until.is_(None), DigestRun.lease_until < now),
    )


def due_condition(now: datetime) -> ColumnElement[bool]:
    """Rows the scheduler may claim at `now`."""
    return or_(
        and_(
            DigestRun.status.in_(("pending", "failed")),
            DigestRun.next_attempt_at.is_not(None),
            DigestRun.next_attempt_at <= now,
        ),
        and_(_lease_expired(now), DigestRun.attempts < MAX_ATTEMPTS),
    )


def claim(
    run_id: int,
    now: datetime,
    owner: str,
    *,
    mode: str = "scheduled",
    recipients: list[str] | None = None,
    lang: str | None = None,
) -> bool:
    """Compare-and-set the run to "sending" under our lease; True only for the one winner.

    mode "scheduled": only a due run; "manual": any pending or failed run (a person asked);
    "force": a sent run too (a deliberate resend, which gets its own Message-ID).
    """
    if mode == "scheduled":
        condition = due_condition(now)
    elif mode == "manual":
        condition = or_(DigestRun.status.in_(("pending", "failed")), _lease_expired(now))
    elif mode == "force":
        condition = or_(DigestRun.status.in_(("pending", "failed", "sent")), _lease_expired(now))
    else:
        raise ValueError(f"unknown claim mode {mode!r}")
    values: dict[str, Any] = {
        "status": "sending",
        "lease_owner": owner,
        "lease_until": now + LEASE,
        "attempts": DigestRun.attempts + 1,
        "updated_at": now,
        "resends": case(
            (DigestRun.status == "sent", DigestRun.resends + 1), else_=DigestRun.resends
        ),
    }
    if recipients is not None:
        values["recipients"] = list(recipients)
    if lang is not None:
        values["lang"] = lang
    stmt = (
        update(DigestRun)
        .where(DigestRun.id == run_id, condition)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    with phase("write"):
        result = db.session.execute(stmt)
    return result.rowcount == 1  # type: ignore[attr-defined]


def _owned(run_id: int, owner: str) -> ColumnElement[bool]:
    return and_(
        DigestRun.id == run_id, DigestRun.status == "sending", DigestRun.lease_owner == owner
    )


def _fenced_update(run_id: int, owner: str, **values: Any) -> bool:
    stmt = (
        update(DigestRun)
        .where(_owned(run_id, owner))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    with phase("write"):
        result = db.session.execute(stmt)
    return result.rowcount == 1  # type: ignore[attr-defined]


def give_up_interrupted(now: datetime) -> int:
    """Mark runs whose sender vanished after its last allowed attempt as failed."""
    stmt = (
        update(DigestRun)
        .where(_lease_expired(now), DigestRun.attempts >= MAX_ATTEMPTS)
        .values(
            status="failed",
            lease_owner=None,
            lease_until=None,
            next_attempt_at=None,
            last_error="interrupted: the sending process stopped; retries used up",
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    with phase("write"):
        result = db.session.execute(stmt)
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


# --- one attempt ----------------------------------------------------------------------------


@dataclass
class Outcome:
    """What happened to one run in a tick or a manual send."""

    run_id: int | None
    org_id: int
    kind: str
    day: date
    status: str  # sent | failed | lost | busy | already_sent
    late: bool = False
    error: str | None = None
    sent_at: datetime | None = None


SendFn = Callable[[delivery.SmtpConfig, Any, list[str]], dict[str, Any]]


def deliver(run_id: int, now: datetime, owner: str, *, send: SendFn | None = None) -> Outcome:
    """Build, render and send a run this process has claimed; record the result.

    Failures before the SMTP server accepted the message mark the run failed with a retry
    time; a refused message never counts as sent.
    """
    started = time_mod.monotonic()

    def clock() -> datetime:
        return now + timedelta(seconds=time_mod.monotonic() - started)

    send = send or delivery.send
    with phase("read"):
        run = db.session.get(DigestRun, run_id, populate_existing=True)
        assert run is not None
        org_id, kind, day, late = run.org_id, run.kind, run.day, run.late
        recipients, lang, resends = list(run.recipients or []), run.lang, run.resends
    base_url = current_app.config["BASE_URL"]
    smtp = delivery.SmtpConfig.from_config(current_app.config)
    try:
        problem = smtp.problem()
        if problem:
            raise delivery.DeliveryError(problem)
        if not recipients:
            raise delivery.DeliveryError("no recipients configured")
        rendered, archive_html = render_run(org_id, kind, day, lang, base_url, now)
        msg_id = delivery.message_id(org_id, kind, day, base_url, resends)
        assert smtp.mail_from is not None
        msg = delivery.build_message(
            rendered, sender=smtp.mail_from, recipients=recipients, msg_id=msg_id
        )
        # Renew the lease for the SMTP conversation; stop if another process took over.
        if not _fenced_update(
            run_id,
            owner,
            lease_until=clock() + LEASE,
            subject=rendered.subject[:300],
            html=archive_html,
            text=rendered.text,
            message_id=msg_id,
            updated_at=clock(),
        ):
            log.error("digest run %s: lease lost before sending; not sent by %s", run_id, owner)
            return Outcome(run_id, org_id, kind, day, "lost", late)
        refused = send(smtp, msg, recipients)
    except Exception as exc:  # noqa: BLE001 - any failure is recorded on the run and retried
        error = exc_summary(exc)
        log.warning("digest run %s (%s %s org %s) failed: %s", run_id, kind, day, org_id, error)
        _mark_failed(run_id, owner, clock(), error)
        return Outcome(run_id, org_id, kind, day, "failed", late, error)
    sent_at = clock()
    note = f"refused by the server: {', '.join(sorted(refused))}"[:500] if refused else None
    _mark_sent(run_id, owner, sent_at, note)
    log.info("digest run %s (%s %s org %s) sent to %d", run_id, kind, day, org_id, len(recipients))
    return Outcome(run_id, org_id, kind, day, "sent", late, note, sent_at)


def render_run(
    org_id: int, kind: str, day: date, lang: str, base_url: str, now: datetime
) -> tuple[Any, str]:
    """Build the digest and render it for mail (cid images) and for the archive (urls)."""
    from server.digest import content, render

    with phase("read"):
        digest = content.build_digest(org_id, kind, day, now=now)
    rendered = render.render(digest, lang, base_url=base_url, image_mode="cid")
    archive = render.render(digest, lang, base_url=base_url, image_mode="url")
    return rendered, archive.html


def exc_summary(exc: BaseException) -> str:
    """One short line about a failure, without secrets (DeliveryError is already clean)."""
    if isinstance(exc, delivery.DeliveryError):
        return str(exc)[:500]
    return f"{type(exc).__name__}: {' '.join(str(exc).split())}"[:300]


def _mark_failed(run_id: int, owner: str, at: datetime, error: str) -> None:
    with phase("read"):
        attempts = db.session.scalar(select(DigestRun.attempts).where(DigestRun.id == run_id)) or 0
    retry_at = at + backoff(attempts) if attempts < MAX_ATTEMPTS else None
    if not _fenced_update(
        run_id,
        owner,
        status="failed",
        last_error=error[:500],
        next_attempt_at=retry_at,
        lease_owner=None,
        lease_until=None,
        updated_at=at,
    ):
        log.error("digest run %s: lease lost while recording a failure", run_id)


def _mark_sent(run_id: int, owner: str, at: datetime, note: str | None) -> None:
    """Record the send; retried briefly, since failing here is the duplicate window."""
    for pause in (0.0, 0.5, 2.0, 5.0):
        time_mod.sleep(pause)
        try:
            ok = _fenced_update(
                run_id,
                owner,
                status="sent",
                sent_at=at,
                last_error=note,
                next_attempt_at=None,
                lease_owner=None,
                lease_until=None,
                updated_at=at,
            )
        except SQLAlchemyError:
            log.exception("digest run %s: sent, but recording it failed; retrying", run_id)
            db.session.rollback()
            continue
        if not ok:
            log.error("digest run %s: sent, but the lease had passed to another process", run_id)
        return
    log.error("digest run %s: SENT BUT NOT RECORDED; it may be sent again", run_id)


# --- the tick -------------------------------------------------------------------------------


def tick(
    now: datetime | None = None, *, owner: str | None = None, send: SendFn | None = None
) -> list[Outcome]:
    """Create the due runs of every enabled organisation and send those this process claims.

    A quiet minute costs three reads and no write: the enabled settings, the runs of the
    due days, and the claimable runs.
    """
    now = now or utcnow()
    owner = owner or process_owner()
    with phase("read"):
        enabled = list(
            db.session.scalars(
                select(DigestSettings)
                .where(DigestSettings.enabled.is_(True))
                .execution_options(populate_existing=True)
            )
        )
    planned: list[tuple[DigestSettings, ZoneInfo, Slot]] = []
    for row in enabled:
        try:
            tz = settings_service.parse_timezone(row.timezone)
            planned += [(row, tz, slot) for slot in due_slots(row, now)]
        except ValueError as exc:
            log.error("digest: cannot plan the runs of org %s: %s", row.org_id, exc)
    if planned:
        days = {slot.day for _row, _tz, slot in planned}
        with phase("read"):
            existing = {
                tuple(found)
                for found in db.session.execute(
                    select(DigestRun.org_id, DigestRun.kind, DigestRun.day).where(
                        DigestRun.day.in_(days)
                    )
                )
            }
        for row, tz, slot in planned:
            if (row.org_id, slot.kind, slot.day) in existing:
                continue
            try:
                ensure_run(
                    row.org_id,
                    slot,
                    tz,
                    now,
                    lang=row.lang,
                    recipients=list(row.recipients or []),
                )
            except Exception:  # one organisation must not stop the others (logged)
                db.session.rollback()
                log.exception("digest: cannot create the %s run of org %s", slot.kind, row.org_id)
    with phase("read"):
        candidates = list(
            db.session.execute(
                select(DigestRun.id, DigestSettings.recipients)
                .join(DigestSettings, DigestSettings.org_id == DigestRun.org_id)
                .where(DigestSettings.enabled.is_(True), due_condition(now))
                .order_by(DigestRun.scheduled_for, DigestRun.id)
            )
        )
        exhausted = db.session.scalar(
            select(DigestRun.id)
            .where(_lease_expired(now), DigestRun.attempts >= MAX_ATTEMPTS)
            .limit(1)
        )
    if exhausted is not None:
        give_up_interrupted(now)
    outcomes = []
    for run_id, recipients in candidates:
        if claim(run_id, now, owner, recipients=list(recipients or [])):
            outcomes.append(deliver(run_id, now, owner, send=send))
    return outcomes


# --- sending by hand (CLI, workspace) -------------------------------------------------------


def send_now(
    org_id: int,
    kind: str,
    day: date,
    *,
    now: datetime | None = None,
    owner: str | None = None,
    force: bool = False,
    lang: str | None = None,
    send: SendFn | None = None,
) -> Outcome:
    """Send the `kind` digest due on `day` now, through the same claim as the scheduler.

    A run that was already sent is not sent again unless `force`; a run another process is
    sending right now is left alone. Refuses a digest whose period has not ended.
    """
    now = now or utcnow()
    owner = owner or process_owner()
    with phase("read"):
        row = settings_service.get(org_id, fresh=True) or settings_service.defaults(org_id)
        recipients = list(row.recipients or [])
        tz = settings_service.parse_timezone(row.timezone)
        send_time = settings_service.parse_send_time(row.send_time)
    if kind not in DIGEST_KINDS:
        raise ValueError(f"unknown digest kind {kind!r}; use one of {', '.join(DIGEST_KINDS)}")
    if not recipients:
        raise ValueError("no recipients: set them with `lagesbild digest-settings --recipients`")
    day = due_day(kind, day)
    _start, end = period_of(kind, day, tz)
    if end > now and not force:
        raise ValueError(
            f"the {kind} digest's period ends {end.astimezone(tz):%Y-%m-%d %H:%M}; "
            "preview it with --html, or use --force to send it incomplete"
        )
    slot = slot_for(kind, day, send_time, tz)
    run_id = ensure_run(
        org_id, slot, tz, now, lang=lang or row.lang, recipients=recipients, manual=True
    )
    with phase("read"):
        run = db.session.get(DigestRun, run_id, populate_existing=True)
        assert run is not None
        status, sent_at, late = run.status, run.sent_at, run.late
        busy = run.status == "sending" and run.lease_until is not None and run.lease_until >= now
    if status == "sent" and not force:
        return Outcome(run_id, org_id, kind, day, "already_sent", late, sent_at=sent_at)
    if busy:
        return Outcome(run_id, org_id, kind, day, "busy", late)
    mode = "force" if force else "manual"
    if not claim(run_id, now, owner, mode=mode, recipients=recipients, lang=lang or row.lang):
        with phase("read"):
            again = db.session.get(DigestRun, run_id, populate_existing=True)
            assert again is not None
            state = "already_sent" if again.status == "sent" else "busy"
        return Outcome(run_id, org_id, kind, day, state, late, sent_at=again.sent_at)
    return deliver(run_id, now, owner, send=send)


# --- running in every worker ----------------------------------------------------------------

_EXTENSION = "digest_scheduler"


def init_app(app: Flask) -> None:
    """Start the per-process digest job when DIGEST_SCHEDULER is on.

    Not for command-line use: `lagesbild …` (a click command) loads the app too, and a
    one-off command must not start sending digests in the background.
    """
    app.extensions.setdefault(_EXTENSION, None)
    if app.config.get("DIGEST_SCHEDULER") and click.get_current_context(silent=True) is None:
        start(app)


def start_in_worker(app: Any) -> None:
    """Gunicorn's post_worker_init hook: make sure this worker runs the digest job.

    With the default (no preload_app) create_app already started it in the worker and this
    is a no-op; with preload_app the job the master started did not survive the fork.
    """
    if isinstance(app, Flask) and app.config.get("DIGEST_SCHEDULER"):
        start(app)


def stop_in_worker(app: Any) -> None:
    """Gunicorn's worker_exit hook: let a send in progress finish before the worker goes."""
    if isinstance(app, Flask):
        stop(app, wait=True)


def start(app: Flask) -> Any:
    """Start this process's digest job (once per process; again in a forked child)."""
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.triggers.interval import IntervalTrigger

    current = app.extensions.get(_EXTENSION)
    if current is not None and current[0] == os.getpid():
        return current[1]
    scheduler = BackgroundScheduler(timezone=UTC, daemon=True)
    # Workers start a few seconds apart, so their ticks do not all hit the database at once.
    first = datetime.now(UTC) + timedelta(seconds=random.uniform(2, 20))
    scheduler.add_job(
        _run_tick,
        IntervalTrigger(seconds=TICK_SECONDS),
        args=[app],
        id="digest-tick",
        next_run_time=first,
        coalesce=True,
        max_instances=1,
        misfire_grace_time=TICK_SECONDS,
    )
    scheduler.start()
    app.extensions[_EXTENSION] = (os.getpid(), scheduler)
    log.info("digest scheduler started in %s", process_owner())
    return scheduler


def stop(app: Flask, wait: bool = True) -> None:
    """Stop this process's digest job, letting a send in progress finish when `wait`."""
    current = app.extensions.get(_EXTENSION)
    if current is not None and current[0] == os.getpid():
        current[1].shutdown(wait=wait)
    app.extensions[_EXTENSION] = None


_tick_lock = threading.Lock()


def _run_tick(app: Flask) -> None:
    """The job: one tick in a fresh app context; errors are logged, never raised."""
    if not _tick_lock.acquire(blocking=False):
        return
    try:
        with app.app_context():
            try:
                tick()
            except Exception:
                log.exception("digest tick failed")
            finally:
                db.session.remove()
    finally:
        _tick_lock.release()
