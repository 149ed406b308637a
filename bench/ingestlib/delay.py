"""The grouping delay: time from a report's acknowledgement to its incident, under load.

A thread polls the database every POLL seconds for two numbers: the organisation's change
counter (the newest stored report's change number; a push commits before it answers) and
the smallest change number still waiting for the grouping (`incident_id IS NULL`). A
report with change number s was stored at the first look whose counter reached s and was
grouped at the first look whose smallest waiting number is past s (a pass groups all of an
organisation's waiting reports at once). The figures are good to about one poll interval.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bench.ingestlib.db import Database

if TYPE_CHECKING:
    from tests.support.pgserver import PostgresServer

POLL = 0.02  # seconds
_LOOK = (
    "SELECT (SELECT COALESCE(SUM(value), 0) FROM change_counters),"
    " (SELECT MIN(change_seq) FROM reports WHERE incident_id IS NULL)"
)
_MEMBERSHIP = (
    "SELECT (SELECT COUNT(*) FROM reports WHERE incident_id IS NULL),"
    " (SELECT COUNT(*) FROM reports r JOIN incidents i ON i.id = r.incident_id)"
)


@dataclass
class Grouping:
    """What the watch saw: per-report delays and the state at the end."""

    delays: list[float] = field(default_factory=list)  # seconds, sorted
    settle_s: float = 0.0  # from the end of the load until nothing waited
    ungrouped: int = -1  # reports without an incident at the end
    in_incident: int = -1  # reports in an existing incident at the end

    def pct(self, q: float) -> float:
        """Return a percentile of the delays in milliseconds (nan without data)."""
        if not self.delays:
            return float("nan")
        return self.delays[min(len(self.delays) - 1, int(q * len(self.delays)))] * 1000


class GroupingWatch:
    """Poll the queue in a thread while the load runs; `finish` waits until it is empty."""

    def __init__(self, db: Database, pg: PostgresServer | None) -> None:
        """Connect to the server's database (a reader: it never takes a write lock)."""
        self.db, self.pg = db, pg
        self.looks: list[tuple[float, int, int | None]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _connect(self) -> Any:
        """Open a plain connection: sqlite3 (WAL readers do not block) or psycopg."""
        if self.db.kind == "sqlite":
            return sqlite3.connect(self.db.sqlite_path, isolation_level=None)
        import psycopg

        assert self.pg is not None
        return psycopg.connect(self.pg.dsn(self.db.pg_name), autocommit=True)

    def _run(self) -> None:
        """Record (time, counter, smallest waiting change number) until stopped."""
        with contextlib.closing(self._connect()) as conn:
            while not self._stop.is_set():
                at = time.monotonic()
                counter, waiting = conn.execute(_LOOK).fetchone()
                self.looks.append((at, int(counter), None if waiting is None else int(waiting)))
                time.sleep(POLL)

    def start(self) -> GroupingWatch:
        """Start polling."""
        self._thread.start()
        return self

    def finish(self, timeout: float = 60.0) -> Grouping:
        """Keep polling until no report waits (or the timeout), then work out the delays."""
        end_of_load = time.monotonic()
        while time.monotonic() - end_of_load < timeout:
            if self.looks and self.looks[-1][0] > end_of_load and self.looks[-1][2] is None:
                break
            time.sleep(POLL)
        self._stop.set()
        self._thread.join(timeout=10)
        result = Grouping(delays=self._delays())
        result.settle_s = time.monotonic() - end_of_load
        with contextlib.closing(self._connect()) as conn:
            ungrouped, placed = conn.execute(_MEMBERSHIP).fetchone()
        result.ungrouped, result.in_incident = int(ungrouped), int(placed)
        return result

    def _delays(self) -> list[float]:
        """Return each stored report's delay from its first look to its grouped look."""
        looks = self.looks
        if not looks:
            return []
        delays: list[float] = []
        first_seq = looks[0][1] + 1
        stored_at = 0  # index of the look where the counter first reached the number
        grouped_at = 0
        for seq in range(first_seq, looks[-1][1] + 1):
            while looks[stored_at][1] < seq:
                stored_at += 1
            grouped_at = max(grouped_at, stored_at)
            while grouped_at < len(looks) - 1 and not _past(looks[grouped_at][2], seq):
                grouped_at += 1
            if _past(looks[grouped_at][2], seq):
                delays.append(looks[grouped_at][0] - looks[stored_at][0])
        return sorted(delays)


def _past(waiting: int | None, seq: int) -> bool:
    """Tell whether change number `seq` is no longer waiting."""
    return waiting is None or waiting > seq
