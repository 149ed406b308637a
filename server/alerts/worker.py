"""Running the alerts job in every worker process (APScheduler), and after each push."""

from __future__ import annotations

import logging

from server.alerts import tick
from server.jobs import PeriodicJob, process_owner

# Every few seconds: an urgent report reaches the person on call within a minute even
# when the push's wake-up went to a process that stopped, and a level escalates on time.
TICK_SECONDS = 5

JOB = PeriodicJob(
    key="alerts_scheduler",
    flag="ALERTS_SCHEDULER",
    seconds=TICK_SECONDS,
    tick=lambda stopping: tick.tick(stop=stopping),
    owner=process_owner,
    log=logging.getLogger("lagesbild.alerts"),
    # A push wakes the job; the grouping (background, woken by the same push) needs a moment.
    wake_delay=1.0,
)

init_app = JOB.init_app
start_in_worker = JOB.start_in_worker
stop_in_worker = JOB.stop_in_worker
start = JOB.start
stop = JOB.stop
wake = JOB.wake
