"""Sending each digest exactly once: due runs, a lease in the database, retries, catch-up.

Every gunicorn worker on every host runs `tick()` once a minute; the database decides
which one sends each digest.

- `runs`: one `DigestRun` row per digest and the compare-and-set lease (exactly-once);
- `catchup`: what is due (the latest slot of each kind, if recent) and retries with backoff;
- `attempt`: one attempt at a claimed run (build, render, send, record);
- `tick`: the minute's work, and sending one digest by hand through the same claim;
- `worker`: the APScheduler job in every worker process.

When a digest is due (`Slot`, `due_day`, `latest_slot`) and what it covers (`period_for`)
are `analysis.calendar`.
"""

from server.digest.scheduler.attempt import Outcome, SendFn, deliver, exc_summary, render_run
from server.digest.scheduler.catchup import (
    BACKOFF_MAX,
    CATCH_UP,
    MAX_ATTEMPTS,
    backoff,
    due_slots,
    kinds_of,
)
from server.digest.scheduler.runs import (
    LATE_AFTER,
    LEASE,
    claim,
    due_condition,
    ensure_run,
    give_up_interrupted,
    process_owner,
)
from server.digest.scheduler.tick import send_now, tick
from server.digest.scheduler.worker import (
    TICK_SECONDS,
    init_app,
    start,
    start_in_worker,
    stop,
    stop_in_worker,
)

__all__ = [
    "BACKOFF_MAX",
    "CATCH_UP",
    "LATE_AFTER",
    "LEASE",
    "MAX_ATTEMPTS",
    "TICK_SECONDS",
    "Outcome",
    "SendFn",
    "backoff",
    "claim",
    "deliver",
    "due_condition",
    "due_slots",
    "ensure_run",
    "exc_summary",
    "give_up_interrupted",
    "init_app",
    "kinds_of",
    "process_owner",
    "render_run",
    "send_now",
    "start",
    "start_in_worker",
    "stop",
    "stop_in_worker",
    "tick",
]
