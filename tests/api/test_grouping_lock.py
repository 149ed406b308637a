"""A grouping pass holds the grouping lock, not the counter lock: new pushes do not wait.

On PostgreSQL a push of new reports takes only the change counter's row lock, so it goes
through while a pass of its organisation runs; a writer that can move reports between
incidents (an edit, a coordinator decision) still waits for the pass. The pass groups
only the reports it read at its start. SQLite has a single writer: nothing to show there.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import select, text

from server.extensions import db
from server.geography import locate
from server.incidents import queue
from server.reports.models import Report
from tests.api.test_incidents import fire, push

WAIT = 20.0  # seconds: far above any pass here, so only a real block reaches it


@pytest.fixture(autouse=True)
def _postgres_only(app) -> None:
    """Skip on SQLite, whose single write lock serialises every writer by design."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer: a push always waits for a pass there")
    app.config["GROUPING"] = "queue"


class _Paused:
    """A grouping pass in a thread, stopped right after it read its pending reports."""

    def __init__(self, app, monkeypatch) -> None:
        """Patch the pass's first step after the pending read to wait for `resume`."""
        self.reached = threading.Event()
        self.resume = threading.Event()
        self.completed = threading.Event()
        original = locate.areas_and_places

        def paused(*args: Any, **kwargs: Any) -> Any:
            if threading.current_thread() is self.thread:  # not an edit's own regrouping
                self.reached.set()
                self.resume.wait(WAIT)
            return original(*args, **kwargs)

        monkeypatch.setattr(locate, "areas_and_places", paused)
        self.thread = threading.Thread(target=self._run, args=(app,), daemon=True)

    def _run(self, app) -> None:
        """Drain the queue in the thread's own app context."""
        with app.app_context():
            queue.drain()
        self.completed.set()  # not reached when the pass raised (pytest reports the thread)

    def start(self) -> None:
        """Start the pass and wait until it holds the lock and its pending reports."""
        self.thread.start()
        assert self.reached.wait(WAIT), "the pass never started"

    def finish(self) -> None:
        """Let the pass go on and wait for it."""
        self.resume.set()
        self.thread.join(WAIT)
        assert self.completed.is_set(), "the pass did not finish"


@pytest.fixture
def paused(app, monkeypatch) -> Iterator[_Paused]:
    """Give a test a paused pass; it is always let go, so a failing test cannot hang."""
    pass_ = _Paused(app, monkeypatch)
    yield pass_
    pass_.resume.set()
    pass_.thread.join(WAIT)


def in_thread(app, work: Callable[[], Any]) -> tuple[threading.Event, list[Any]]:
    """Run `work` in a thread with its own app context; return its done flag and result."""
    done = threading.Event()
    out: list[Any] = []

    def run() -> None:
        with app.app_context():
            out.append(work())
        done.set()

    threading.Thread(target=run, daemon=True).start()
    return done, out


def waits_for_grouping_lock(done: threading.Event) -> bool:
    """Return whether another session is seen waiting for an advisory lock before `done`."""
    query = text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
    with db.engine.connect() as conn:
        while not done.is_set():
            if conn.execute(query).scalar():
                return True
            conn.rollback()  # a fresh snapshot of pg_locks on the next look
            time.sleep(0.02)
    return False


def waiting(*reports: dict[str, Any]) -> list[str]:
    """Return the ids among these reports that are in no incident yet."""
    ids = [uuid.UUID(r["id"]) for r in reports]
    rows = db.session.scalars(
        select(Report.id).where(Report.id.in_(ids), Report.incident_id.is_(None))
    )
    return sorted(str(i) for i in rows)


def test_a_push_of_new_reports_goes_through_while_a_pass_runs(app, client, device, paused):
    later = fire(300)  # a grouped report hours later: the pass takes the local path
    push(client, device, later)
    queue.drain()
    early = fire(0)
    push(client, device, early)
    paused.start()
    meanwhile = fire(1)
    done, out = in_thread(app, lambda: push(client, device, meanwhile))
    assert done.wait(WAIT), "the push waited for the grouping pass"
    assert [r["status"] for r in out[0]] == ["created"]
    paused.finish()
    db.session.rollback()  # a fresh snapshot after the other threads' commits
    # The pass grouped what it read at its start; the report pushed meanwhile waits for
    # the next pass, which also places it in its area (the paused step above).
    assert waiting(early, meanwhile, later) == [meanwhile["id"]]
    queue.drain()
    assert waiting(early, meanwhile, later) == []
    rows = {str(r.id): r.incident_id for r in db.session.scalars(select(Report))}
    assert rows[meanwhile["id"]] == rows[early["id"]] != rows[later["id"]]


def test_an_edit_waits_for_the_pass(app, client, device, paused):
    first = fire(0)
    push(client, device, first)
    queue.drain()
    push(client, device, fire(2))
    paused.start()
    edited = dict(first, revision=1, description="Två bilar brinner nu.")
    done, out = in_thread(app, lambda: push(client, device, edited))
    # An edit regroups under the lock the pass holds: PostgreSQL shows it waiting for it.
    assert waits_for_grouping_lock(done), "an edit went on while a pass held the lock"
    paused.finish()
    assert done.wait(WAIT)
    assert [r["status"] for r in out[0]] == ["updated"]
