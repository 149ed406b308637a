"""Periodic jobs run in every worker process (APScheduler); database leases make their work
happen once across workers and hosts, so each process only needs a steady tick."""

from __future__ import annotations

import logging
import os
import random
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import click
from flask import Flask

from server.extensions import db


class PeriodicJob:
    """One job that every worker process ticks on a fixed interval."""

    def __init__(
        self,
        *,
        key: str,
        flag: str,
        seconds: int,
        tick: Callable[[threading.Event], object],
        owner: Callable[[], str],
        log: logging.Logger,
    ) -> None:
        """Describe the job: its app.extensions key, its config flag, interval and tick."""
        self.key = key  # app.extensions key, e.g. "digest_scheduler"
        self.job_id = key.removesuffix("_scheduler") + "-tick"
        self.flag = flag
        self.seconds = seconds
        self.tick = tick
        self.owner = owner
        self.log = log
        self._lock = threading.Lock()
        # Set when the process stops: a long tick that checks it ends between two batches
        # instead of holding up the worker's exit; another worker finishes the work.
        self.stopping = threading.Event()

    def init_app(self, app: Flask) -> None:
        """Start the job when its flag is on, never for the CLI.

        `lagesbild …` (a click command) loads the app too, and a one-off command must not
        start sending digests or purging in the background.
        """
        app.extensions.setdefault(self.key, None)
        if app.config.get(self.flag) and click.get_current_context(silent=True) is None:
            self.start(app)

    def start_in_worker(self, app: Any) -> None:
        """Gunicorn's post_worker_init hook: make sure this worker runs the job.

        With the default (no preload_app) create_app already started it in the worker and
        this is a no-op; with preload_app the job the master started did not survive the fork.
        """
        if isinstance(app, Flask) and app.config.get(self.flag):
            self.start(app)

    def stop_in_worker(self, app: Any) -> None:
        """Gunicorn's worker_exit hook: let a tick in progress finish before the worker goes."""
        if isinstance(app, Flask):
            self.stop(app, wait=True)

    def start(self, app: Flask) -> Any:
        """Start this process's job (once per process; again in a forked child)."""
        from apscheduler.schedulers.background import BackgroundScheduler
        from apscheduler.triggers.interval import IntervalTrigger

        current = app.extensions.get(self.key)
        if current is not None and current[0] == os.getpid():
            return current[1]
        scheduler = BackgroundScheduler(timezone=UTC, daemon=True)
        # Workers start a few seconds apart, so their ticks do not all hit the database at once.
        first = datetime.now(UTC) + timedelta(seconds=random.uniform(2, 20))
        scheduler.add_job(
            self._run_tick,
            IntervalTrigger(seconds=self.seconds),
            args=[app],
            id=self.job_id,
            next_run_time=first,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=self.seconds,
        )
        self.stopping.clear()
        scheduler.start()
        app.extensions[self.key] = (os.getpid(), scheduler)
        self.log.info("%s started in %s", self.key.replace("_", " "), self.owner())
        return scheduler

    def stop(self, app: Flask, wait: bool = True) -> None:
        """Stop this process's job, letting a tick in progress finish when `wait`."""
        current = app.extensions.get(self.key)
        if current is not None and current[0] == os.getpid():
            self.stopping.set()
            current[1].shutdown(wait=wait)
        app.extensions[self.key] = None

    def _run_tick(self, app: Flask) -> None:
        """Run one tick in a fresh app context; errors are logged, never raised."""
        if not self._lock.acquire(blocking=False):
            return
        try:
            with app.app_context():
                try:
                    self.tick(self.stopping)
                # The scheduler thread must survive any failure of one tick: the next tick
                # retries, and the lease rows record what was interrupted.
                except Exception:
                    self.log.exception("%s tick failed", self.job_id)
                finally:
                    db.session.remove()
        finally:
            self._lock.release()
