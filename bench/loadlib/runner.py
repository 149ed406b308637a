"""Run locust as a library: one local runner, headless, no web UI, no CSV.

Importing this module imports locust (gevent's monkey patching); only the load runner's
process may import it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import gevent
from locust import FastHttpUser
from locust.env import Environment

from bench.loadlib.stats import Recorder

POLL_S = 0.5


def run_users(
    host: str,
    users: dict[type[FastHttpUser], int],
    spawn_rate: float,
    recorder: Recorder,
    *,
    done: Callable[[], bool],
    time_limit: float,
    tick: Callable[[], None] | None = None,
) -> bool:
    """Spawn the users (fixed counts per class) and run until `done()` or the time limit.

    Returns whether `done()` held before the limit. `tick` runs every POLL_S seconds in
    between (e.g. to sample memory). Every request reaches `recorder`.
    """
    logging.getLogger("locust").setLevel(logging.WARNING)
    classes = list(users)
    for cls in classes:
        cls.fixed_count = users[cls]
        cls.host = host
    env = Environment(user_classes=classes, host=host)
    env.events.request.add_listener(recorder.on_request)
    runner = env.create_local_runner()
    total = sum(users.values())
    runner.start(total, spawn_rate=spawn_rate)
    deadline = time.monotonic() + time_limit
    finished = False
    try:
        while time.monotonic() < deadline:
            if done():
                finished = True
                break
            if tick is not None:
                tick()
            gevent.sleep(POLL_S)
    finally:
        runner.quit()
        runner.greenlet.join(timeout=30)
        # A task that raised (a bug in the scenario or an answer it could not read) is an
        # error of the run too; locust logged it and went on.
        for entry in runner.exceptions.values():
            recorder.task_errors[entry["msg"].splitlines()[0][:200]] += int(entry["count"])
    return finished
