"""The write gate: SQLite writers queue at a file lock and the next starts when it opens."""

from __future__ import annotations

import fcntl
import gc
import multiprocessing
import os
import signal
import sqlite3
import threading
import time
from pathlib import Path

import pytest

from server.sqlite_gate import (
    GROUPING_SUFFIX,
    GatedConnection,
    gate_path,
    held,
    leave_gate,
    take_gate,
)
from tests.support.gate import gate_is_free

WAIT = 10.0  # seconds: far above anything here, so only a real block reaches it


@pytest.mark.parametrize(
    ("database", "expected"),
    [
        ("/srv/lagesbild.sqlite3", "/srv/lagesbild.sqlite3-writegate"),
        ("file:/srv/db.sqlite3?mode=rw", "/srv/db.sqlite3-writegate"),
        ("file:///srv/db.sqlite3", "/srv/db.sqlite3-writegate"),
        (":memory:", None),
        ("", None),
        ("file:one?mode=memory&cache=shared", None),
    ],
)
def test_the_gate_sits_beside_the_database_file_and_nowhere_in_memory(database, expected):
    assert gate_path(database) == expected


def test_the_pass_gate_is_its_own_file(tmp_path):
    db_file = str(tmp_path / "db.sqlite3")
    assert gate_path(db_file, GROUPING_SUFFIX) == db_file + "-groupinggate" != gate_path(db_file)


def _connect(path: Path, timeout: float = 5.0) -> GatedConnection:
    conn = sqlite3.connect(
        str(path), factory=GatedConnection, check_same_thread=False, timeout=timeout
    )
    conn.isolation_level = None
    conn.execute("PRAGMA journal_mode = WAL")
    return conn


def _gate_is_free(path: Path) -> bool:
    return gate_is_free(str(path))


@pytest.mark.parametrize("end", ["commit", "rollback", "close"])
def test_a_second_writer_waits_at_the_gate_until_the_first_transaction_ends(tmp_path, end):
    path = tmp_path / "db.sqlite3"
    # No busy timeout for the second: without the gate its BEGIN IMMEDIATE fails at once.
    first, second = _connect(path), _connect(path, timeout=0)
    first.execute("CREATE TABLE t (x INTEGER)")
    take_gate(first)
    first.execute("BEGIN IMMEDIATE")
    first.execute("INSERT INTO t VALUES (1)")
    assert not _gate_is_free(path)
    through = threading.Event()

    def write() -> None:
        take_gate(second)
        second.execute("BEGIN IMMEDIATE")
        second.execute("INSERT INTO t VALUES (2)")
        second.commit()
        through.set()

    thread = threading.Thread(target=write, daemon=True)
    thread.start()
    assert not through.wait(0.3), "the second writer went past a shut gate"
    getattr(first, end)()
    assert through.wait(WAIT), f"the gate stayed shut after {end}"
    thread.join(WAIT)
    rows = sorted(x for (x,) in second.execute("SELECT x FROM t"))
    assert rows == ([1, 2] if end == "commit" else [2])
    assert _gate_is_free(path)
    second.close()


def test_taking_the_gate_twice_does_not_lock_a_connection_out(tmp_path):
    path = tmp_path / "db.sqlite3"
    conn = _connect(path)
    take_gate(conn)
    take_gate(conn)  # the same transaction asks again: no self-deadlock
    assert not _gate_is_free(path)
    leave_gate(conn)
    assert _gate_is_free(path)
    leave_gate(conn)  # leaving an open gate is harmless
    conn.close()


def test_a_connection_in_memory_or_a_plain_one_has_no_gate(tmp_path):
    memory = sqlite3.connect(":memory:", factory=GatedConnection)
    take_gate(memory)  # no file to lock: a no-op
    memory.close()
    plain = sqlite3.connect(str(tmp_path / "db.sqlite3"))
    take_gate(plain)  # not a gated connection (the gate switched off): a no-op
    leave_gate(plain)
    plain.close()
    assert not Path(gate_path(str(tmp_path / "db.sqlite3"))).exists()


def test_a_writer_waits_no_longer_than_the_gate_timeout_then_goes_on_ungated(tmp_path):
    path = tmp_path / "db.sqlite3"
    conn = _connect(path)
    conn.gate_timeout = 0.2
    fd = os.open(gate_path(str(path)), os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # a holder that never lets go
        started = time.monotonic()
        take_gate(conn)
        waited = time.monotonic() - started
        assert 0.2 <= waited < WAIT
        conn.execute("BEGIN IMMEDIATE")  # SQLite's own lock is free: the write goes on
        conn.execute("CREATE TABLE t (x INTEGER)")
        conn.commit()
    finally:
        os.close(fd)
    assert _gate_is_free(path)
    conn.close()


def test_an_unusable_gate_file_leaves_the_writers_ungated(tmp_path, caplog):
    path = tmp_path / "db.sqlite3"
    Path(gate_path(str(path))).mkdir()  # not a file: opening it fails
    conn = _connect(path)
    take_gate(conn)
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("CREATE TABLE t (x INTEGER)")
    conn.commit()
    assert "writers go ungated" in caplog.text
    conn.close()


def test_a_connection_dropped_without_close_lets_go_of_the_gate(tmp_path):
    path = tmp_path / "db.sqlite3"
    conn = _connect(path)
    take_gate(conn)
    assert not _gate_is_free(path)
    del conn
    gc.collect()
    assert _gate_is_free(path)


def _report_inherited(path: str, conn: GatedConnection, out) -> None:  # in a forked child
    conn.gate_timeout = 0.2
    take_gate(conn)  # the parent holds the gate: the child must not think it does
    out.put(conn._holding)


def test_a_forked_child_does_not_share_its_parents_gate(tmp_path):
    path = tmp_path / "db.sqlite3"
    conn = _connect(path)
    take_gate(conn)
    ctx = multiprocessing.get_context("fork")
    out = ctx.Queue()
    child = ctx.Process(target=_report_inherited, args=(str(path), conn, out), daemon=True)
    child.start()
    assert out.get(timeout=WAIT) is False
    child.join(WAIT)
    assert not _gate_is_free(path)  # the child closing its copy left the parent's lock
    conn.rollback()
    assert _gate_is_free(path)
    conn.close()


def _hold_forever(path: str, ready) -> None:  # runs in a child process
    conn = _connect(Path(path))
    take_gate(conn)
    ready.set()
    time.sleep(600)


def test_a_writer_killed_while_holding_the_gate_does_not_leave_it_shut(tmp_path):
    path = tmp_path / "db.sqlite3"
    ctx = multiprocessing.get_context("fork")
    ready = ctx.Event()
    child = ctx.Process(target=_hold_forever, args=(str(path), ready), daemon=True)
    child.start()
    assert ready.wait(WAIT)
    assert not _gate_is_free(path)
    os.kill(child.pid, signal.SIGKILL)
    child.join(WAIT)
    assert _gate_is_free(path)


def test_held_keeps_other_holders_out_for_the_block(tmp_path):
    gate = str(tmp_path / "db.sqlite3-groupinggate")
    inside = threading.Event()
    order: list[str] = []

    def other() -> None:
        inside.wait(WAIT)
        with held(gate):
            order.append("other")

    thread = threading.Thread(target=other, daemon=True)
    thread.start()
    with held(gate) as taken:
        assert taken
        inside.set()
        time.sleep(0.2)
        order.append("first")
    thread.join(WAIT)
    assert order == ["first", "other"]
    with held(None) as taken:  # in memory: nothing to hold
        assert not taken


def test_held_goes_on_without_the_lock_after_its_timeout(tmp_path):
    gate = str(tmp_path / "db.sqlite3-groupinggate")
    with held(gate) as first:
        started = time.monotonic()
        with held(gate, timeout=0.2) as second:
            assert (first, second) == (True, False)
            assert time.monotonic() - started >= 0.2
