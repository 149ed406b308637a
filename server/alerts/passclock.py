"""The clock of one pass of the alerts job: the pass's `now`, moved on as the pass runs.

A pass starts at `now` (the clock, or a frozen time in tests) but sending takes time: a
lease taken late in a pass must run from when it is taken, not from the pass's start, or
another worker finds it run out while we still send (and sends again). Measuring the time
the pass has taken with the monotonic clock keeps a frozen `now` usable in tests.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from time import monotonic


class PassClock:
    """Tell the time within a pass that started at `start`."""

    def __init__(self, start: datetime) -> None:
        """Start counting from `start`."""
        self.start = start
        self.began = monotonic()

    def __call__(self) -> datetime:
        """Return `start` plus the time the pass has taken so far."""
        return self.start + timedelta(seconds=monotonic() - self.began)
