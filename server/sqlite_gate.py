"""A queue in front of SQLite's write lock, so a waiting writer starts soon after it is free.

SQLite lets one writer in at a time. A writer that finds the lock taken waits in SQLite's
busy handler, which sleeps 1, 2, 5, 10, 15, 20, 25, 25, 25, 50, 50, 100 ms between tries:
under a steady stream of pushes the lock is often free while the next writer still sleeps
(bench/ingest.py --lock-stats: lock busy 54 % of the time, workers waiting 59 % of theirs,
the machine 40 % idle). Before BEGIN IMMEDIATE every connection therefore takes an
exclusive `flock` on a file beside the database, and drops it when the transaction ends;
a queued writer looks again within half a millisecond of the holder letting go.

The gate only orders writers; SQLite's lock still guarantees correctness, so a writer
outside the gate (the sqlite3 shell, a backup) is merely not queued. The kernel drops a
process's locks when it dies, so a crashed worker never leaves the gate shut; a writer
that waits longer than the busy timeout goes on without the gate, to SQLite's own
"database is locked".
"""

from __future__ import annotations

import fcntl
import logging
import os
import sqlite3
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

log = logging.getLogger("lagesbild.db")

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

    # How long a writer waits at the gate before it goes on without it and lets SQLite's
    # busy timeout decide (server.db sets it from LAGESBILD_SQLITE_BUSY_TIMEOUT_MS).
    gate_timeout = 30.0

    def __init__(self, database: Any, *args: Any, **kwargs: Any) -> None:
        """Open the database; the gate file is opened at the first write."""
        super().__init__(database, *args, **kwargs)
        self._gate_path = gate_path(database)
        self._gate_fd: int | None = None
        self._gate_closer: weakref.finalize | None = None
        self._holding = False
        _OPEN.add(self)

    def take_gate(self) -> None:
        """Wait for the gate (no-op in memory, when already held, or when it cannot open)."""
        if self._gate_path is None or self._holding:
            return
        if self._gate_fd is None and not self._open_gate():
            return
        fd = self._gate_fd
        assert fd is not None
        if _wait_for(fd, self.gate_timeout, _LAST_PAUSE):
            self._holding = True
        # else on without the gate: SQLite's own lock still guards

    def _open_gate(self) -> bool:
        """Open the gate file; on failure (permissions, a read-only folder) go ungated."""
        fd_path = self._gate_path
        assert fd_path is not None
        try:
            fd = os.open(fd_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except OSError as exc:
            log.warning("SQLite write gate %s unusable, writers go ungated: %s", fd_path, exc)
            self._gate_path = None
            return False
        self._gate_fd = fd
        # A connection dropped without close() must not keep the file (and a lock) open.
        self._gate_closer = weakref.finalize(self, os.close, fd)
        return True

    def leave_gate(self) -> None:
        """Let the next writer in (no-op when not held)."""
        if self._holding and self._gate_fd is not None:
            self._holding = False
            fcntl.flock(self._gate_fd, fcntl.LOCK_UN)

    def drop_gate_file(self) -> None:
        """Close the gate file (its lock goes with it unless another process shares it)."""
        self._holding = False
        self._gate_fd = None
        if self._gate_closer is not None:
            self._gate_closer()  # closes the descriptor once, whoever calls first

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
            self.drop_gate_file()


# Every gated connection of this process, so a forked child can let go of their files.
_OPEN: weakref.WeakSet[GatedConnection] = weakref.WeakSet()
_FIRST_PAUSE = 0.0001
_LAST_PAUSE = 0.0005
# A grouping pass waits for another one (tens of milliseconds): no need to look as often.
_HELD_PAUSE = 0.002


def _after_fork_in_child() -> None:
    """Close the inherited gate files: a child shares its parent's locks through them."""
    for conn in list(_OPEN):
        conn.drop_gate_file()


os.register_at_fork(after_in_child=_after_fork_in_child)


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


def _wait_for(fd: int, timeout: float, last_pause: float) -> bool:
    """Take an exclusive lock on `fd` within `timeout` seconds; tell whether it was taken.

    Polled, not a blocking flock: a blocking one cannot time out, and a writer stuck
    behind a transaction that never ends must still get SQLite's "database is locked"
    after the busy timeout, not hang. The pauses start at 0.1 ms and stay short against
    the transactions they wait for.
    """
    deadline = time.monotonic() + timeout
    pause = _FIRST_PAUSE
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if time.monotonic() >= deadline:
                return False
            time.sleep(pause)
            pause = min(pause * 2, last_pause)
            continue
        return True


@contextmanager
def held(path: str | None, timeout: float = 60.0) -> Iterator[bool]:
    """Hold an exclusive lock on the file at `path` for the block if it comes within
    `timeout` seconds; yield whether it is held (never for None, or when unusable).

    For locks that only save work (one grouping pass at a time): the block runs anyway.
    """
    if path is None:
        yield False
        return
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    except OSError as exc:
        log.warning("lock file %s unusable, going on without it: %s", path, exc)
        yield False
        return
    try:
        yield _wait_for(fd, timeout, _HELD_PAUSE)
    finally:
        os.close(fd)  # closing the only descriptor of the open file drops its lock
