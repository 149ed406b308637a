"""Running the purge job in every worker process (APScheduler), every few minutes."""

from __future__ import annotations

import logging

from server.jobs import PeriodicJob
from server.retention import scheduler
from server.retention.runs import process_owner

# The purge is due once a day; a tick every five minutes starts it soon after 03:30 and
# notices a dead holder's expired lease (runs.LEASE) within minutes.
TICK_SECONDS = 300

JOB = PeriodicJob(
    key="purge_scheduler",
    flag="PURGE_SCHEDULER",
    seconds=TICK_SECONDS,
    # A long purge (a first one on a big store) ends between two batches when the process stops.
    tick=lambda stopping: scheduler.tick(stop=stopping),
    owner=process_owner,
    log=logging.getLogger("lagesbild.retention"),
)

init_app = JOB.init_app
start_in_worker = JOB.start_in_worker
stop_in_worker = JOB.stop_in_worker
start = JOB.start
stop = JOB.stop
