"""The re-keying slow path costs a pass linear work in the incident's size, no more.

A late report that sorts before an incident's seed (same second, lower id) becomes its
new seed: every member moves to the new key. The pass must do that with a fixed number of
statements, writing each member once and loading each member once.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event, func, select

from server.extensions import db
from server.incidents import queue
from server.incidents.models import Incident
from server.reports.models import Report
from tests.api.test_incidents import fire, push
from tests.support import factories

SIZES = (20, 40, 80)


def with_id_prefix(report: dict[str, Any], prefix: str) -> dict[str, Any]:
    """Give a report an id that sorts where the test needs it."""
    report["id"] = prefix + report["id"][len(prefix) :]
    return report


@contextmanager
def counting() -> Iterator[Counter[str]]:
    """Count statements, parameter rows and report rows loaded while the block runs."""
    stats: Counter[str] = Counter()

    def before(_conn, _cursor, sql, parameters, _context, executemany) -> None:
        stats["statements"] += 1
        stats["rows_sent"] += len(parameters) if executemany else 1
        # Merge clocks (JSON) are the heaviest column and no part of the grouping.
        stats["reads_with_clocks"] += sql.lstrip().upper().startswith("SELECT") and (
            "reports.clocks" in sql
        )

    def loaded(_target, _context) -> None:
        stats["reports_loaded"] += 1

    event.listen(db.engine, "before_cursor_execute", before)
    event.listen(Report, "load", loaded)
    try:
        yield stats
    finally:
        event.remove(db.engine, "before_cursor_execute", before)
        event.remove(Report, "load", loaded)


def rekey_pass(client, size: int) -> Counter[str]:
    """Build one incident of `size` reports, send a new seed, and count the pass."""
    dev = factories.make_device(factories.make_org())
    seed = with_id_prefix(fire(0), "8")
    push(client, dev, seed, *(with_id_prefix(fire(0), "9") for _ in range(size - 1)))
    queue.drain()
    new_seed = with_id_prefix(fire(0), "0")
    push(client, dev, new_seed)
    db.session.expunge_all()  # the pass starts cold, as in a worker
    with counting() as stats:
        result = queue.drain()
    assert (result.moved, result.grouped, result.created, result.removed) == (size, 1, 1, 1)
    key = uuid.UUID(new_seed["id"])
    members = db.session.scalar(select(func.count()).where(Report.incident_id == key))
    assert members == size + 1
    assert db.session.get(Incident, uuid.UUID(seed["id"])) is None
    return stats


def test_rekeying_an_incident_costs_linear_work_in_its_size(client, app):
    app.config["GROUPING"] = "background"
    stats = {size: rekey_pass(client, size) for size in SIZES}
    # A fixed number of statements, whatever the size: no statement per member.
    assert len({s["statements"] for s in stats.values()}) == 1, stats
    # Each member is sent once (its new key) and loaded once: the excess is a constant.
    for what in ("rows_sent", "reports_loaded"):
        excess = {s[what] - size for size, s in stats.items()}
        assert len(excess) == 1, (what, stats)
    # Only the queue and its anchors (a few rows) load whole rows; the window and the
    # summaries, which hold every member, leave the clocks out.
    assert {s["reads_with_clocks"] for s in stats.values()} == {2}, stats
