"""The re-keying slow path costs a pass linear work in the incident's size, no more.

A late report that sorts before an incident's seed (same second, lower id) becomes its
new seed. The incident keeps its id and only its seed column changes: the pass writes a
fixed number of rows whatever the incident's size, with a fixed number of statements, and
loads each member once. When the new seed is the old one's twin (same time, category,
position and place: `analysis.twins`), the pass loads no member at all.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import event, func, select

from server.extensions import db
from server.incidents import queue
from server.incidents.models import Incident, IncidentEvent
from server.reports.models import Report
from tests.api.test_incidents import at, fire, incident_of, near, push
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


def rekey_pass(client, size: int, twin: bool = False) -> Counter[str]:
    """Build one incident of `size` reports, send a new seed, and count the pass."""
    dev = factories.make_device(factories.make_org())
    seed = with_id_prefix(fire(0), "8")
    push(client, dev, seed, *(with_id_prefix(fire(0), "9") for _ in range(size - 1)))
    queue.drain()
    # Ten metres off, the new seed is no twin: every member is checked against it.
    new_seed = with_id_prefix(fire(0, 0.0 if twin else 10.0), "0")
    push(client, dev, new_seed)
    db.session.expunge_all()  # the pass starts cold, as in a worker
    with counting() as stats:
        result = queue.drain()
    assert (result.moved, result.grouped, result.created, result.removed) == (0, 1, 0, 0)
    assert result.reseeded == 1
    incident = db.session.get(Incident, uuid.UUID(seed["id"]))
    assert incident is not None and incident.seed_id == uuid.UUID(new_seed["id"])
    assert incident.report_count == size + 1
    members = db.session.scalar(select(func.count()).where(Report.incident_id == incident.id))
    assert members == size + 1
    return stats


def test_rekeying_an_incident_costs_linear_work_in_its_size(client, app):
    app.config["GROUPING"] = "background"
    stats = {size: rekey_pass(client, size) for size in SIZES}
    # A fixed number of statements, whatever the size: no statement per member.
    assert len({s["statements"] for s in stats.values()}) == 1, stats
    # No member's row is written: the rows sent do not grow with the incident.
    assert len({s["rows_sent"] for s in stats.values()}) == 1, stats
    # Each member is loaded once (the window): the excess is a constant.
    excess = {s["reports_loaded"] - size for size, s in stats.items()}
    assert len(excess) == 1, stats
    # No read of the pass loads the merge clocks: not the queue, nor the anchors, the
    # window or the summaries, which hold every member.
    assert {s["reads_with_clocks"] for s in stats.values()} == {0}, stats


def test_a_twins_rekey_costs_the_same_whatever_the_size(client, app):
    app.config["GROUPING"] = "background"
    stats = {size: rekey_pass(client, size, twin=True) for size in SIZES}
    # The same statements, rows written and rows loaded at every size: the incident is
    # renamed, not regrouped. The rows loaded are the new seed and the old one.
    assert len({tuple(sorted(s.items())) for s in stats.values()}) == 1, stats
    assert stats[SIZES[0]]["reports_loaded"] == 2, stats


def test_a_late_earlier_report_leaves_the_incident_its_id_and_history(client, app):
    app.config["GROUPING"] = "background"
    dev = factories.make_device(factories.make_org())
    first, second = fire(5), fire(8, 20)
    push(client, dev, first, second)
    queue.drain()
    iid = incident_of(first["id"])
    created_at = db.session.get(Incident, iid).created_at
    # A phone that was out of coverage sends the first sighting of the same fire late.
    late = fire(0, 10)
    push(client, dev, late)
    db.session.expunge_all()
    assert queue.drain().reseeded == 1
    incident = db.session.get(Incident, iid)
    assert incident is not None, "the incident kept its id: the digest's links still lead to it"
    assert incident.seed_id == uuid.UUID(late["id"])
    assert incident.created_at == created_at
    assert incident.first_at == datetime.fromisoformat(late["created_at"])
    assert incident.report_count == 3
    assert {incident_of(r["id"]) for r in (first, second, late)} == {iid}
    kinds = db.session.scalars(select(IncidentEvent.kind).where(IncidentEvent.incident_id == iid))
    assert list(kinds) == ["created"]


def test_a_later_category_change_renames_the_reseeded_incident(client, app):
    app.config["GROUPING"] = "background"
    dev = factories.make_device(factories.make_org())
    first = fire(5, description="Bilen brinner")
    push(client, dev, first)
    queue.drain()
    iid = incident_of(first["id"])
    # An earlier report of a related category with its own words becomes the seed: the
    # incident is named after its seed, as the summaries of a fresh grouping would be.
    late = fire(0, 10, description="Rök från parkeringen")
    push(client, dev, late)
    queue.drain()
    assert db.session.get(Incident, iid).summary == "Rök från parkeringen"


def test_a_first_seed_split_off_later_gets_an_incident_of_its_own(client, app):
    app.config["GROUPING"] = "background"
    dev = factories.make_device(factories.make_org())
    first, late = fire(5), fire(0, 10)
    push(client, dev, first)
    queue.drain()
    push(client, dev, late)
    queue.drain()
    iid = incident_of(first["id"])
    assert iid == uuid.UUID(first["id"]) and incident_of(late["id"]) == iid
    # The first report is corrected to a place four kilometres away: it leaves and starts
    # an incident keyed by its own id, which the old incident still carries as its id.
    moved = dict(first, location=near(4_000), updated_at=at(30), revision=2)
    assert push(client, dev, moved)[0]["status"] == "updated"
    queue.drain()
    own = incident_of(first["id"])
    assert own != iid
    assert db.session.get(Incident, own).seed_id == uuid.UUID(first["id"])
    assert db.session.get(Incident, iid).seed_id == uuid.UUID(late["id"])
    assert db.session.get(Incident, iid).report_count == 1
