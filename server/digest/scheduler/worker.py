"""Running the digest job in every worker process (APScheduler), once a minute."""

from __future__ import annotations

import logging

from server.digest.scheduler.runs import process_owner
from server.digest.scheduler.tick import tick
from server.jobs import PeriodicJob

TICK_SECONDS = 60

JOB = PeriodicJob(
    key="digest_scheduler",
    flag="DIGEST_SCHEDULER",
    seconds=TICK_SECONDS,
    tick=lambda _stopping: tick(),  # a send in progress always finishes
    owner=process_owner,
    log=logging.getLogger("lagesbild.digest"),
)

init_app = JOB.init_app
start_in_worker = JOB.start_in_worker
stop_in_worker = JOB.stop_in_worker
start = JOB.start
stop = JOB.stop
