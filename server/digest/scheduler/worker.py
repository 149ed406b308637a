"""Running the digest job in every worker process (APScheduler), once a minute."""

from __future__ import annotations

import logging
import os
import random
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import click
from flask import Flask

from server.digest.scheduler.runs import process_owner
from server.digest.scheduler.tick import tick
from server.extensions import db

log = logging.getLogger("lagesbild.digest")

TICK_SECONDS = 60
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
