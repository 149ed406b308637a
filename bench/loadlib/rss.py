"""Resident memory of each gunicorn worker, read from /proc (no psutil on this machine)."""

from __future__ import annotations

import contextlib
import os
import time
from dataclasses import dataclass, field


def children(pid: int) -> list[int]:
    """Return the live child pids of a process (the master's children are its workers)."""
    kids: list[int] = []
    with contextlib.suppress(OSError):
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as fh:
                kids.extend(int(x) for x in fh.read().split())
    return sorted(set(kids))


def rss_kib(pid: int) -> int | None:
    """Return VmRSS of a process in KiB, or None when it is gone."""
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


@dataclass
class RssSeries:
    """Samples of every worker's RSS: (seconds since start, KiB) per worker pid."""

    master: int
    interval: float
    start: float = field(default_factory=time.monotonic)
    samples: dict[int, list[tuple[float, int]]] = field(default_factory=dict)
    _next: float = 0.0

    def maybe_sample(self) -> None:
        """Take a sample when the interval has passed since the last one."""
        now = time.monotonic()
        if now < self._next:
            return
        self._next = (self._next or now) + self.interval
        at = now - self.start
        for pid in children(self.master):
            kib = rss_kib(pid)
            if kib is not None:
                self.samples.setdefault(pid, []).append((at, kib))

    def growth(self, window: float = 60.0) -> dict[int, tuple[float, float, float]]:
        """Per worker: the first minute's mean, the last minute's mean (KiB) and the growth.

        A worker that did not live from the first to the last minute (replaced meanwhile) is
        left out: its windows would not be the run's first and last minute.
        """
        end = max((s[-1][0] for s in self.samples.values() if s), default=0.0)
        out = {}
        for pid, series in self.samples.items():
            first = [k for t, k in series if t <= window]
            last = [k for t, k in series if t >= end - window]
            if not first or not last or series[-1][0] < end - window / 2:
                continue
            a, b = sum(first) / len(first), sum(last) / len(last)
            out[pid] = (a, b, (b - a) / a)
        return out

    def replaced_workers(self) -> list[int]:
        """Return the pids that were not present for the whole run."""
        kept = self.growth()
        return sorted(pid for pid in self.samples if pid not in kept)
