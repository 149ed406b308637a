"""Running the purge job in every worker process (APScheduler), every few minutes."""

from __future__ import annotations

import logging
import os
import random
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import click
from flask import Flask

from server.extensions import db
from server.retention.runs import process_owner
from server.retention.scheduler import tick

log = logging.getLogger("lagesbild.retention")

# The purge is due once a day; a tick every five minutes starts it soon after 03:30 and
# notices a dead holder's expired lease (runs.LEASE) within minutes.
TICK_SECONDS = 300
_EXTENSION = "purge_scheduler"


def init_app(app: Flask) -> None:
    """Start the per-process purge job when PURGE_SCHEDULER is on (never for the CLI)."""
    app.extensions.setdefault(_EXTENSION, None)
    if app.config.get("PURGE_SCHEDULER") and click.get_current_context(silent=True) is None:
        start(app)


def start_in_worker(app: Any) -> None:
    """Gunicorn's post_worker_init hook: make sure this worker runs the purge job."""
    if isinstance(app, Flask) and app.config.get("PURGE_SCHEDULER"):
        start(app)


def stop_in_worker(app: Any) -> None:
    """Gunicorn's worker_exit hook: end a purge in progress after its current batch."""
    if isinstance(app, Flask):
        stop(app, wait=True)


def start(app: Flask) -> Any:
    """Start this process's purge job (once per process; again in a forked child)."""
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
        id="purge-tick",
        next_run_time=first,
        coalesce=True,
        max_instances=1,
        misfire_grace_time=TICK_SECONDS,
    )
    _stopping.clear()
    scheduler.start()
    app.extensions[_EXTENSION] = (os.getpid(), scheduler)
    log.info("purge scheduler started in %s", process_owner())
    return scheduler


def stop(app: Flask, wait: bool = True) -> None:
    """Stop this process's purge job: a purge in progress ends after its current batch."""
    current = app.extensions.get(_EXTENSION)
    if current is not None and current[0] == os.getpid():
        _stopping.set()
        current[1].shutdown(wait=wait)
    app.extensions[_EXTENSION] = None


_tick_lock = threading.Lock()
# Set when the process stops: a long purge (a first one on a big store) ends between two
# batches instead of holding up the worker's exit; another worker finishes it.
_stopping = threading.Event()


def _run_tick(app: Flask) -> None:
    """The job: one tick in a fresh app context; errors are logged, never raised."""
    if not _tick_lock.acquire(blocking=False):
        return
    try:
        with app.app_context():
            try:
                tick(stop=_stopping)
            except Exception:
                log.exception("purge tick failed")
            finally:
                db.session.remove()
    finally:
        _tick_lock.release()
