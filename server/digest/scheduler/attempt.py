"""One attempt at a claimed run: build, render and send the digest, and record the result."""

from __future__ import annotations

import logging
import time as time_mod
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from server.db import phase
from server.digest import delivery
from server.digest.models import DigestRun
from server.digest.scheduler.catchup import MAX_ATTEMPTS, backoff
from server.digest.scheduler.runs import LEASE, fenced_update
from server.extensions import db

log = logging.getLogger("lagesbild.digest")


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
        if not fenced_update(
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
        mark_failed(run_id, owner, clock(), error)
        return Outcome(run_id, org_id, kind, day, "failed", late, error)
    sent_at = clock()
    note = f"refused by the server: {', '.join(sorted(refused))}"[:500] if refused else None
    mark_sent(run_id, owner, sent_at, note)
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


def mark_failed(run_id: int, owner: str, at: datetime, error: str) -> None:
    """Record a failed attempt and when to retry it (none after MAX_ATTEMPTS)."""
    with phase("read"):
        attempts = db.session.scalar(select(DigestRun.attempts).where(DigestRun.id == run_id)) or 0
    retry_at = at + backoff(attempts) if attempts < MAX_ATTEMPTS else None
    if not fenced_update(
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


def mark_sent(run_id: int, owner: str, at: datetime, note: str | None) -> None:
    """Record the send; retried briefly, since failing here is the duplicate window."""
    for pause in (0.0, 0.5, 2.0, 5.0):
        time_mod.sleep(pause)
        try:
            ok = fenced_update(
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
