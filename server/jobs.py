"""Periodic jobs run in every worker process (APScheduler); database leases make their work
happen once across workers and hosts, so each process only needs a steady tick."""

from __future__ import annotations

import logging
import os
import random
import socket
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import click
from flask import Flask

from server.extensions import db
from server.memory import trim


def process_owner() -> str:
    """Return this process's lease name: host and process id."""
    return f"{socket.gethostname()}:{os.getpid()}"[:200]


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
        wake_delay: float | None = None,
        pace: float = 0.0,
    ) -> None:
        """Describe the job: its app.extensions key, its config flag, interval and tick.

        With `wake_delay` (seconds) the job can also be woken: `wake()` runs a tick that
        delay later (wake-ups in between share it), besides the steady interval. With
        `pace` (seconds) a tick starts no sooner than `pace` after the previous one
        started: under a stream of wake-ups the ticks take bigger batches.
        """
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
        self.wake_delay = wake_delay
        self._wanted = threading.Event()  # work arrived that no tick has started on yet
        self._woken = threading.Event()  # the wake-up thread's signal
        self._waker: threading.Thread | None = None
        self.pace = pace
        self._not_before = 0.0  # time.monotonic() before which no tick starts

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
        if self.wake_delay is not None:
            self._waker = threading.Thread(
                target=self._wake_loop, args=[app], name=self.job_id + "-wake", daemon=True
            )
            self._waker.start()
            self.wake()  # a fresh process first catches up on what the last one left
        self.log.info("%s started in %s", self.key.replace("_", " "), self.owner())
        return scheduler

    def stop(self, app: Flask, wait: bool = True) -> None:
        """Stop this process's job, letting a tick in progress finish when `wait`."""
        current = app.extensions.get(self.key)
        if current is not None and current[0] == os.getpid():
            self.stopping.set()
            self._woken.set()  # let the wake-up thread see `stopping` and end
            current[1].shutdown(wait=wait)
            if wait and self._waker is not None:
                self._waker.join()
            self._waker = None
        app.extensions[self.key] = None

    def wake(self) -> None:
        """Ask for a tick soon (after `wake_delay`); a no-op where the job does not run."""
        self._wanted.set()
        self._woken.set()

    def _wake_loop(self, app: Flask) -> None:
        """Run a tick after each wake-up until the process stops."""
        while not self.stopping.is_set():
            self._woken.wait()
            # Gather the wake-ups of the next moment into one tick (a batch).
            if self.stopping.wait(self.wake_delay or 0):
                return
            self._woken.clear()
            self._run_tick(app)

    def _run_tick(self, app: Flask) -> None:
        """Run ticks in a fresh app context while work is wanted; errors are logged."""
        # A wake-up that finds a tick running must not be lost: the running one clears
        # `_wanted` before it starts and looks again after letting go of the lock, so
        # whichever thread holds the lock next starts after the last wake-up.
        while True:
            if not self._lock.acquire(blocking=False):
                return
            try:
                # The pause comes before clearing: wake-ups during it join this tick.
                if self.stopping.wait(max(0.0, self._not_before - time.monotonic())):
                    return
                # Every wake-up so far is served by this tick (the waker need not run again).
                self._wanted.clear()
                self._woken.clear()
                started = time.monotonic()
                with app.app_context():
                    try:
                        self.tick(self.stopping)
                    # The scheduler thread must survive any failure of one tick: the next
                    # tick retries, and the lease rows record what was interrupted.
                    except Exception:
                        self.log.exception("%s tick failed", self.job_id)
                    finally:
                        db.session.remove()
                self._not_before = started + self.pace
            finally:
                self._lock.release()
            # A pass over a large window leaves its thread's arena full of free pages.
            trim()
            if not self._wanted.is_set() or self.stopping.is_set():
                return
