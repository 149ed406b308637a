"""Running the grouping pass in every worker process: woken after each push, and steadily.

A push in background mode (LAGESBILD_GROUPING) stores its reports and wakes this
process's job, which drains the queue a moment later (`WAKE_DELAY` gathers the pushes of
that moment into one pass). The periodic tick is the fallback for what a wake-up missed:
pushes answered by a process that died before its pass, or a pass that failed.
"""

from __future__ import annotations

import logging

from server.incidents import queue
from server.jobs import PeriodicJob, process_owner

# Seconds between fallback passes; a pass over an empty queue is one indexed read.
TICK_SECONDS = 5
# Seconds from a wake-up to its pass: short against the 2 s promise, long enough that the
# pushes of a busy moment share one pass (and one write transaction).
WAKE_DELAY = 0.05
# Seconds at least from one pass's start to the next in this process: under a stream of
# pushes each pass takes what a tenth of a second brought instead of one push, so a pass's
# fixed cost (a dozen queries, two commits) is shared, while it stays short: on SQLite a
# pass holds the one write lock, and the pushes behind it wait. (0.25 s held the lock for
# passes of a thousand reports: push p99 152-191 ms and grouping delay p99 about 350 ms in
# bench/ingest.py on SQLite, against 122 and 168 ms at 0.1 s, at the same throughput. A
# pause as long as the pass took as well doubled the delay behind a long pass.)
PACE = 0.1

JOB = PeriodicJob(
    key="grouping_scheduler",
    flag="GROUPING_JOB",
    seconds=TICK_SECONDS,
    tick=lambda stopping: queue.drain(stopping),
    owner=process_owner,
    log=logging.getLogger("lagesbild.incidents"),
    wake_delay=WAKE_DELAY,
    pace=PACE,
)

init_app = JOB.init_app
start_in_worker = JOB.start_in_worker
stop_in_worker = JOB.stop_in_worker
start = JOB.start
stop = JOB.stop
wake = JOB.wake
