"""The scheduler's minute: create the due runs and send those this process claims; and
sending one digest by hand through the same claim (CLI, workspace).
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from analysis.calendar import Slot, due_day, parse_timezone, period_for, slot_for
from server.db import phase
from server.digest import service as settings_service
from server.digest.models import DIGEST_KINDS, DigestRun, DigestSettings
from server.digest.scheduler.attempt import Outcome, SendFn, deliver
from server.digest.scheduler.catchup import MAX_ATTEMPTS, due_slots
from server.digest.scheduler.runs import (
    claim,
    due_condition,
    ensure_run,
    give_up_interrupted,
    lease_expired,
    process_owner,
)
from server.extensions import db
from sync.clock import utcnow

log = logging.getLogger("lagesbild.digest")


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
            tz = parse_timezone(row.timezone)
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
            .where(lease_expired(now), DigestRun.attempts >= MAX_ATTEMPTS)
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
        tz = parse_timezone(row.timezone)
        send_time = settings_service.parse_send_time(row.send_time)
    if kind not in DIGEST_KINDS:
        raise ValueError(f"unknown digest kind {kind!r}; use one of {', '.join(DIGEST_KINDS)}")
    if not recipients:
        raise ValueError("no recipients: set them with `lagesbild digest-settings --recipients`")
    day = due_day(kind, day)
    _start, end = period_for(kind, day, tz)
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
