"""A queue in front of SQLite's write lock, so a waiting writer starts the moment it is free.

SQLite lets one writer in at a time. A writer that finds the lock taken waits in SQLite's
busy handler, which sleeps 1, 2, 5, 10, 15, 20, 25, 25, 25, 50, 50, 100 ms between tries:
under a steady stream of pushes the lock is often free while the next writer still sleeps
(bench/ingest.py --lock-stats: lock busy 54 % of the time, workers waiting 59 % of theirs,
the machine 40 % idle). Before BEGIN IMMEDIATE every connection therefore takes an
exclusive `flock` on a file beside the database, and drops it when the transaction ends;
the kernel wakes a blocked writer as soon as the holder lets go.

The gate only orders writers; SQLite's lock still guarantees correctness, so a writer
outside the gate (the sqlite3 shell, a backup) is merely not queued. The kernel drops a
process's locks when it dies, so a crashed worker never leaves the gate shut.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

# The gate files sit beside the database: every process that opens the same database
# file finds the same gates.
SUFFIX = "-writegate"
# One grouping pass at a time across processes (server.incidents.queue).
GROUPING_SUFFIX = "-groupinggate"


def gate_path(database: str, suffix: str = SUFFIX) -> str | None:
    """Return the gate file for a database argument of sqlite3.connect, None in memory."""
    name = os.fspath(database)
    if name.startswith("file:"):
        # A URI filename (SQLAlchemy's ?uri=true): the path ends at the query.
        name = name.removeprefix("file:").split("?", 1)[0]
        if name.startswith("//"):
            name = name[2:]
    if name in ("", ":memory:") or "mode=memory" in os.fspath(database):
        return None
    return name + suffix


class GatedConnection(sqlite3.Connection):
    """A sqlite3 connection that queues at the gate for its write transactions."""

    def __init__(self, database: Any, *args: Any, **kwargs: Any) -> None:
        """Open the database; the gate file is opened at the first write."""
        super().__init__(database, *args, **kwargs)
        self._gate_path = gate_path(database)
        self._gate_fd: int | None = None
        self._holding = False

    def take_gate(self) -> None:
        """Wait for the gate (no-op in memory or when already held)."""
        if self._gate_path is None or self._holding:
            return
        if self._gate_fd is None:
            self._gate_fd = os.open(self._gate_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        fcntl.flock(self._gate_fd, fcntl.LOCK_EX)
        self._holding = True

    def leave_gate(self) -> None:
        """Let the next writer in (no-op when not held)."""
        if self._holding and self._gate_fd is not None:
            self._holding = False
            fcntl.flock(self._gate_fd, fcntl.LOCK_UN)

    def commit(self) -> None:
        """Commit, then open the gate (also when the commit failed: SQLite still guards)."""
        try:
            super().commit()
        finally:
            self.leave_gate()

    def rollback(self) -> None:
        """Roll back, then open the gate."""
        try:
            super().rollback()
        finally:
            self.leave_gate()

    def close(self) -> None:
        """Close the database and the gate file."""
        try:
            super().close()
        finally:
            self.leave_gate()
            if self._gate_fd is not None:
                os.close(self._gate_fd)
                self._gate_fd = None


def take_gate(dbapi_connection: Any) -> None:
    """Queue at the gate if this connection has one (not in memory, not when switched off)."""
    take = getattr(dbapi_connection, "take_gate", None)
    if take is not None:
        take()


def leave_gate(dbapi_connection: Any) -> None:
    """Leave the gate without a commit or rollback (a BEGIN that failed)."""
    leave = getattr(dbapi_connection, "leave_gate", None)
    if leave is not None:
        leave()


@contextmanager
def held(path: str | None) -> Iterator[None]:
    """Hold an exclusive lock on the file at `path` for the block (nothing for None)."""
    if path is None:
        yield
        return
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing the only descriptor of the open file drops its lock
