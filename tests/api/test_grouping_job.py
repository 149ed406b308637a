"""The grouping job: woken after a push, it groups within moments; wake-ups are never lost."""

from __future__ import annotations

import itertools
import logging
import threading
import time
import uuid
from collections.abc import Callable

from flask import Flask
from sqlalchemy import select

from server.config import ConfigError, Settings, flask_config
from server.db import phase
from server.extensions import db
from server.incidents import worker
from server.jobs import PeriodicJob
from server.reports.models import Report
from tests.api.test_incidents import fire, push

WAIT = 5.0  # seconds; every wait below ends long before when the job works


def wait_for(check, timeout: float = WAIT) -> bool:
    """Poll `check` every 20 ms until it is true or the timeout passes."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if check():
            return True
        time.sleep(0.02)
    return bool(check())


def test_grouping_defaults_to_background_outside_testing_and_checks_the_value(tmp_path):
    def config(env: dict[str, str]) -> dict[str, object]:
        base = {"SECRET_KEY": "x" * 20 + "abcdefghijklmnop", **env}
        return flask_config(Settings.from_env(base), str(tmp_path))

    prod = config({})
    assert (prod["GROUPING"], prod["GROUPING_JOB"]) == ("background", True)
    testing = config({"LAGESBILD_ENV": "testing"})
    assert (testing["GROUPING"], testing["GROUPING_JOB"]) == ("inline", False)
    queued = config({"LAGESBILD_ENV": "testing", "LAGESBILD_GROUPING": " Queue "})
    assert (queued["GROUPING"], queued["GROUPING_JOB"]) == ("queue", False)
    forced = config({"LAGESBILD_ENV": "testing", "LAGESBILD_GROUPING": "background"})
    assert forced["GROUPING_JOB"] is True
    try:
        config({"LAGESBILD_GROUPING": "later"})
    except ConfigError as exc:
        assert "LAGESBILD_GROUPING must be one of background, inline, queue" in str(exc)
    else:
        raise AssertionError("a bad LAGESBILD_GROUPING must stop the start")


def test_a_pushed_report_is_in_its_incident_moments_after_the_answer(app: Flask, client, device):
    app.config["GROUPING"] = "background"
    assert app.extensions["grouping_scheduler"] is None  # testing: not started by itself
    worker.start(app)
    try:
        a = fire(0)
        acked = time.monotonic()
        push(client, device, a)
        rid = uuid.UUID(a["id"])

        def grouped() -> bool:
            # A read phase: a deferred transaction, ended at once (never the write lock).
            with phase("read"):
                return db.session.scalar(select(Report.incident_id).where(Report.id == rid)) == rid

        assert wait_for(grouped)
        assert time.monotonic() - acked < 2.0
    finally:
        worker.stop(app)
    assert app.extensions["grouping_scheduler"] is None


def woken_job(tick: Callable[[threading.Event], object], pace: float = 0.0) -> PeriodicJob:
    """Return a test job woken at once, whose interval (an hour) never ticks in a test."""
    return PeriodicJob(
        key="test_scheduler",
        flag="TEST_JOB",
        seconds=3600,
        tick=tick,
        owner=lambda: "test",
        log=logging.getLogger("test"),
        wake_delay=0.0,
        pace=pace,
    )


def test_a_wake_up_during_a_periodic_tick_gets_a_tick_of_its_own(app: Flask):
    started = threading.Event()
    release = threading.Event()
    ticks: list[tuple[str, float]] = []

    def tick(_stopping: threading.Event) -> None:
        ticks.append((threading.current_thread().name, time.monotonic()))
        if threading.current_thread().name == "periodic" and not release.is_set():
            started.set()
            release.wait(WAIT)  # the periodic tick is busy while the wake-up arrives

    job = woken_job(tick)
    job.start(app)  # the start wakes the job once
    periodic = threading.Thread(target=job._run_tick, args=[app], name="periodic")
    try:
        assert wait_for(lambda: len(ticks) == 1)
        periodic.start()  # as the scheduler's interval tick does
        assert started.wait(WAIT)
        woken = time.monotonic()
        job.wake()  # the wake-up thread finds the tick lock taken and gives up
        time.sleep(0.1)
        assert len(ticks) == 2
        release.set()
        assert wait_for(lambda: len(ticks) == 3)  # the wake-up was not swallowed
        assert ticks[2][1] > woken
        time.sleep(0.1)
        assert len(ticks) == 3  # no tick without a wake-up (the interval is an hour)
        job.wake()
        assert wait_for(lambda: len(ticks) == 4)
    finally:
        release.set()
        periodic.join(WAIT)
        job.stop(app)
    assert job._waker is None


def test_a_paced_job_under_a_stream_of_wake_ups_batches_them(app: Flask):
    starts: list[float] = []

    def tick(_stopping: threading.Event) -> None:
        starts.append(time.monotonic())
        time.sleep(0.02)  # a pass takes a little time

    job = woken_job(tick, pace=0.2)
    job.start(app)
    try:
        until = time.monotonic() + 1.0
        last = 0.0
        while time.monotonic() < until:  # pushes arriving all the time
            last = time.monotonic()
            job.wake()
            time.sleep(0.001)
        assert wait_for(lambda: starts[-1] >= last)  # the last wake-up is served too
    finally:
        job.stop(app)
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    # Without pacing a tick follows each wake-up: about fifty in that second.
    assert gaps and min(gaps) >= 0.2
    assert 3 <= len(starts) <= 7
