"""Hierarchical wall-clock timers wrapped around the server's push path at run time.

Nothing in server/ is edited: the wrappers are installed on the live objects and removed again.
"""

from __future__ import annotations

import contextlib
import functools
import re
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from typing import Any

from bench.ingestlib.lockstats import is_lock_statement

Key = tuple[str, ...]  # the stack of labels from the outermost timer to this one


class Timers:
    """Inclusive time and calls per stack of labels, plus write-lock hold times."""

    def __init__(self) -> None:
        self.stack: list[str] = []
        self.total: dict[Key, float] = defaultdict(float)
        self.calls: dict[Key, int] = defaultdict(int)
        self.lock_spans: list[float] = []
        self._lock_start: float | None = None
        self._undo: list[Callable[[], None]] = []

    def record(self, key: Key, seconds: float) -> None:
        """Add one timed call."""
        self.total[key] += seconds
        self.calls[key] += 1

    @contextlib.contextmanager
    def span(self, label: str) -> Iterator[None]:
        """Time a block as a child of the current stack."""
        self.stack.append(label)
        key = tuple(self.stack)
        t = time.perf_counter()
        try:
            yield
        finally:
            self.record(key, time.perf_counter() - t)
            self.stack.pop()

    def timed(self, fn: Callable[..., Any], label: str) -> Callable[..., Any]:
        """Return fn wrapped in a timer."""
        stack, total, calls, perf = self.stack, self.total, self.calls, time.perf_counter

        @functools.wraps(fn)
        def timed(*a: Any, **kw: Any) -> Any:
            # Inlined (no context manager): these wrappers sit on per-report calls.
            stack.append(label)
            key = tuple(stack)
            t = perf()
            try:
                return fn(*a, **kw)
            finally:
                total[key] += perf() - t
                calls[key] += 1
                stack.pop()

        return timed

    def wrap(self, owner: Any, name: str, label: str) -> None:
        """Replace owner.name by a timed wrapper (undone by restore())."""
        own = name in vars(owner)
        saved = vars(owner).get(name)
        setattr(owner, name, self.timed(getattr(owner, name), label))

        def undo() -> None:
            if own:
                setattr(owner, name, saved)
            else:
                delattr(owner, name)

        self.on_restore(undo)

    def on_restore(self, undo: Callable[[], None]) -> None:
        """Run `undo` on restore() (in reverse order of registration)."""
        self._undo.append(undo)

    def restore(self) -> None:
        """Remove every wrapper."""
        while self._undo:
            self._undo.pop()()

    def lock_taken(self) -> None:
        """Note that the write lock was taken (the first time until it is released)."""
        if self._lock_start is None:
            self._lock_start = time.perf_counter()

    def lock_released(self) -> None:
        """Note a COMMIT: it releases the write lock if one was taken."""
        if self._lock_start is not None:
            self.lock_spans.append(time.perf_counter() - self._lock_start)
            self._lock_start = None


_SQL_RE = re.compile(r"^\s*(\w+)(?:.*?\b(?:FROM|INTO|UPDATE)\s+\"?(\w+))?", re.I | re.S)


def sql_label(statement: str, many: bool) -> str:
    """Return a short label for a SQL statement."""
    m = _SQL_RE.match(statement)
    verb, table = (m.group(1).upper(), m.group(2)) if m else ("SQL", None)
    if verb == "UPDATE":
        table = statement.split()[1].strip('"')
    label = f"driver: {verb}" + (f" {table}" if table else "")
    if verb == "BEGIN":
        label = f"driver: {statement.strip()}"
    return label + (" (executemany)" if many else "")


def install_timers(app: Any, timers: Timers) -> list[str]:
    """Put timers around the server's own push path (nothing in server/ is edited).

    Return the functions that do not exist in this version of the server (not timed).
    """
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    import server.devices.auth as auth
    import server.protocol.push as service
    import server.protocol.pushauth as pushauth
    import server.protocol.views as views
    from server.extensions import db
    from server.protocol.schemas import PushOut, ReportIn
    from sync.merge import Edit

    timers.wrap(app, "wsgi_app", "WSGI app (Flask request handling)")
    view = app.view_functions["sync.push"]
    app.view_functions["sync.push"] = timers.timed(view, "view: @device_required + push")
    timers.on_restore(lambda: app.view_functions.__setitem__("sync.push", view))
    missing: list[str] = []
    for owner, name, label in (
        (auth, "device_for_token", "auth: device_for_token (token SELECT)"),
        (auth, "touch", "auth: touch (last_seen)"),
        # Since issue 13 the push authenticates and reads the category codes in one query.
        (pushauth, "device_and_codes", "auth: device_and_codes (token + codes SELECT)"),
        (pushauth, "touch", "auth: touch (last_seen)"),
        (views, "json_body", "request JSON parse (get_json)"),
        (views, "receive_push", "protocol.service.receive_push"),
        (service, "category_codes", "category_codes"),
        (service, "_parse", "_parse (validate 50 reports)"),
        (ReportIn, "load", "marshmallow ReportIn.load"),
        (service, "fast_load", "fastcheck.fast_load"),
        (service, "values_from_input", "values_from_input"),
        (Edit, "__post_init__", "Edit.__post_init__ (deepcopy, UTC)"),
        # Up to git 1dc86da the write section was _merge_valid + _write_changes; later
        # commits plan before locking (_plan, _any_known, _load_known, _write, _insert_new).
        # Whichever of them this server has is timed; the others are listed as absent.
        (service, "_merge_valid", "_merge_valid"),
        (service, "_plan", "_plan (merge engine, no database)"),
        (service, "_lock_counter", "_lock_counter"),
        (service, "_any_known", "_any_known (one existence query)"),
        (service, "_load_known", "_load_known (stored rows, tombstones)"),
        (service, "apply_batch", "sync.merge.apply_batch"),
        (service, "_write_changes", "_write_changes"),
        (service, "_write", "_write"),
        (service, "_insert_new", "_insert_new"),
        (service, "store_all_new", "store_all_new (counter + insert)"),
        (service, "insert_new", "insert_new"),
        (service, "columns_from_values", "columns_from_values"),
        (service, "values_of", "values_of (deepcopy)"),
        (service, "clocks_to_json", "clocks_to_json"),
        (service, "_attach_versions_and_missing", "_attach_versions_and_missing"),
        (service, "_result_json", "_result_json"),
        (PushOut, "dump", "marshmallow PushOut.dump"),
        (app.json, "response", "Flask JSON response (json.dumps)"),
        (Session, "_execute_internal", "ORM execute"),
        (Session, "flush", "ORM flush"),
        (Session, "commit", "session.commit"),
    ):
        if hasattr(owner, name):
            timers.wrap(owner, name, label)
        else:
            missing.append(f"{getattr(owner, '__name__', type(owner).__name__)}.{name}")
    with app.app_context():
        engine = db.engine
    dialect = engine.dialect
    timers.wrap(dialect, "do_ping", "driver: pool_pre_ping")

    def before(
        conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool
    ) -> None:
        if is_lock_statement(statement):
            timers.lock_taken()
        timers.stack.append(sql_label(statement, many))
        conn.info["bench_t"] = time.perf_counter()

    def after(
        conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool
    ) -> None:
        timers.record(tuple(timers.stack), time.perf_counter() - conn.info.pop("bench_t"))
        timers.stack.pop()

    original_commit = dialect.do_commit

    def do_commit(dbapi_conn: Any) -> None:
        # COMMIT (with its fsync on SQLite) ends the write lock taken by BEGIN IMMEDIATE.
        with timers.span("driver: COMMIT"):
            original_commit(dbapi_conn)
        timers.lock_released()

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    dialect.do_commit = do_commit

    def undo_events() -> None:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)
        del dialect.do_commit

    timers.on_restore(undo_events)
    return missing
