"""Every request's latency and outcome, per request kind, from locust's request event."""

from __future__ import annotations

import math
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any


def percentile(ordered: list[float], q: float) -> float:
    """Return the nearest-rank percentile of sorted values (NaN when empty)."""
    if not ordered:
        return math.nan
    return ordered[max(1, math.ceil(q * len(ordered))) - 1]


@dataclass
class KindStats:
    """Latencies (ms) and failures of one request kind."""

    times_ms: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)

    def summary(self) -> dict[str, Any]:
        """Return count, errors and p50/p95/p99/max in ms."""
        ordered = sorted(self.times_ms)
        return {
            "count": len(ordered),
            "errors": sum(self.errors.values()),
            "p50_ms": percentile(ordered, 0.50),
            "p95_ms": percentile(ordered, 0.95),
            "p99_ms": percentile(ordered, 0.99),
            "max_ms": ordered[-1] if ordered else math.nan,
        }


@dataclass
class Recorder:
    """Collects locust's request events; also counts what the devices had acknowledged."""

    kinds: dict[str, KindStats] = field(default_factory=lambda: defaultdict(KindStats))
    first: float | None = None
    last: float | None = None
    acked_reports: int = 0
    stored_photos: int = 0
    task_errors: Counter[str] = field(default_factory=Counter)  # exceptions raised in tasks

    def on_request(
        self,
        request_type: str,
        name: str,
        response_time: float,
        response_length: int,
        exception: BaseException | None = None,
        **_: Any,
    ) -> None:
        """Record one finished request (locust's `request` event listener)."""
        now = time.monotonic()
        if self.first is None:
            self.first = now - response_time / 1000
        self.last = now
        stats = self.kinds[name]
        stats.times_ms.append(response_time)
        if exception is not None:
            stats.errors[_describe(exception)] += 1

    @property
    def elapsed(self) -> float:
        """Return seconds from the first request's start to the last answer."""
        if self.first is None or self.last is None:
            return 0.0
        return self.last - self.first

    @property
    def errors(self) -> int:
        """Return the number of failed requests of every kind."""
        failed = sum(sum(k.errors.values()) for k in self.kinds.values())
        return failed + sum(self.task_errors.values())

    def error_samples(self, limit: int = 10) -> list[str]:
        """Return the most frequent failure descriptions with their counts."""
        merged: Counter[str] = Counter({f"task: {t}": n for t, n in self.task_errors.items()})
        for name, stats in self.kinds.items():
            for text, n in stats.errors.items():
                merged[f"{name}: {text}"] += n
        return [f"{n} x {text}" for text, n in merged.most_common(limit)]


def _describe(exc: BaseException) -> str:
    """Return a short, groupable description of a failure."""
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:200]
