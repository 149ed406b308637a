"""Keep every report in exactly one incident: run the pure grouping over the affected window.

The rules live in `analysis.grouping`; this module loads the reports whose assignment can
change (`server.incidents.local`: only those a pass can affect, not the whole window since
the earliest pending report), hands them over, and has `server.incidents.apply` write
back the difference: report links, incident rows and their summaries. Callers hold the
organisation's grouping lock (`server.orgs.counter.lock_grouping`, taken by every writer
that moves reports between incidents, but not by a push of new reports), so two
groupings never interleave.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta

from flask import Flask, current_app, has_app_context
from sqlalchemy import select, update
from sqlalchemy.orm.attributes import set_committed_value

from analysis.grouping import ReportPoint, group_reports
from analysis.grouping_rules import DEFAULT_RULES, Rules, rules_from_json
from server.config import ConfigError
from server.extensions import db
from server.geography import locate
from server.incidents.anchors import anchors as _anchors
from server.incidents.anchors import with_anchors as _with_anchors
from server.incidents.apply import GroupingResult, Plan, apply_plan
from server.incidents.keys import incidents_for, seeds_of
from server.incidents.local import load_affected
from server.incidents.models import CLOSED_STATUSES, Incident
from server.incidents.summary import UNUSED_BY_GROUPING, refresh_incidents
from server.incidents.twins import take_over
from server.orgs.counter import lock_counter
from server.reports.models import Report

# How much later than a pass's earliest pending report grouped reports may be for the
# pass to try the shortcut (`_fast`): phones in coverage sync within minutes.
FAST_SLACK = timedelta(minutes=10)


def _rules() -> Rules:
    """Return the app's grouping rules (LAGESBILD_GROUPING_RULES over the defaults)."""
    if has_app_context():
        return current_app.extensions.get("lagesbild.grouping_rules", DEFAULT_RULES)
    return DEFAULT_RULES


def load_rules(app: Flask) -> None:
    """Read the rules file named by the config once, failing start-up on a bad one."""
    path = app.config.get("GROUPING_RULES_FILE")
    if not path:
        return
    try:
        with open(path, encoding="utf-8") as fh:
            doc = json.load(fh)
        rules = rules_from_json(doc)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, ValueError) as exc:
        raise ConfigError(f"LAGESBILD_GROUPING_RULES ({path}): {exc}") from exc
    app.extensions["lagesbild.grouping_rules"] = rules


def group_organisation(org_id: int) -> GroupingResult:
    """Put every report of the organisation that is not in an incident yet into one."""
    lock_counter(org_id)
    result = assign_pending(org_id)
    db.session.commit()
    return result


def assign_pending(org_id: int, touched: Iterable[uuid.UUID] = ()) -> GroupingResult:
    """Group the organisation's ungrouped reports (and `touched` ones) into incidents."""
    touched = list(touched)
    old_of_touched: set[uuid.UUID] = set()
    if touched:
        # An edited report is regrouped unless a coordinator placed it by hand.
        old_of_touched = {
            iid
            for iid in db.session.scalars(
                select(Report.incident_id).where(
                    Report.id.in_(touched), Report.incident_pinned.is_(False)
                )
            )
            if iid is not None
        }
        db.session.execute(
            update(Report)
            .where(Report.id.in_(touched), Report.incident_pinned.is_(False))
            .values(incident_id=None)
        )
    plan = plan_pending(org_id, old_of_touched)
    if plan is None:
        return GroupingResult(removed=refresh_incidents(org_id, old_of_touched))
    return apply_plan(org_id, plan)


def plan_pending(org_id: int, old_of_touched: set[uuid.UUID] = frozenset()) -> Plan | None:
    """Work out a pass over the organisation's queue without writing anything; None if empty.

    Everything here only reads, so on SQLite it can run outside the write lock
    (`server.incidents.queue`); the loaded rows are changed in memory only.
    """
    result = GroupingResult()
    # The queue, read once: everything below is derived from these rows.
    pending = list(
        db.session.scalars(
            select(Report)
            .where(Report.org_id == org_id, Report.incident_id.is_(None))
            # A busy pass reads a thousand queued rows; their merge clocks and photo lists
            # (JSON) were a tenth of its time and nothing here reads them.
            .options(*UNUSED_BY_GROUPING)
        )
    )
    if not pending:
        return None
    located = locate.areas_and_places(org_id, [(r.id, r.lat, r.lon) for r in pending])
    by_pending = {r.id: r for r in pending}
    for row in located:
        # Written by `apply_plan`: keep the loaded rows in step, no 2nd UPDATE.
        report = by_pending[row["id"]]  # type: ignore[index]
        set_committed_value(report, "area_id", row["area_id"])
        set_committed_value(report, "place_id", row["place_id"])
    rules = _rules()
    pending_categories = {r.category_code for r in pending}
    times = [r.created_at for r in pending]
    old_keys: set[uuid.UUID] = set()
    if old_of_touched:
        # An edited report may have anchored others from its old time on.
        for category, first_at, seed in db.session.execute(
            select(Incident.category_code, Incident.first_at, Incident.seed_id).where(
                Incident.id.in_(old_of_touched)
            )
        ):
            pending_categories.add(category)
            times.append(first_at)
            old_keys.add(seed)
    categories = _closure(pending_categories, rules)
    # A report's incident depends only on earlier reports, so the regrouping starts at the
    # earliest pending one; earlier reports matter only as the anchors of open incidents.
    since = min(times)
    closed = {
        str(seed)
        for seed in db.session.scalars(
            select(Incident.seed_id).where(
                Incident.org_id == org_id,
                Incident.status.in_(CLOSED_STATUSES),
                Incident.last_at >= since - rules.max_window(),
            )
        )
    }
    # The shortcut is tried only when it can pay: with grouped reports well after the
    # earliest pending one (phones syncing a shift late) a pending report that starts an
    # incident almost always has later reports to check, and the shortcut's anchor load
    # would be thrown away. Either path gives the same keys; this is cost only.
    window, mapping, seeds, twins = (
        (None, None, None, {})
        if old_of_touched or _later_grouped(org_id, categories, since + FAST_SLACK)
        else _fast(org_id, pending, since, categories, rules, closed)
    )
    if window is None or mapping is None or seeds is None:
        # Only the reports this pass can affect are regrouped; the rest keep their
        # incidents and come along pinned where an affected incident needs them.
        window, regroup = load_affected(
            org_id, since, categories, rules, old_keys, {r.id for r in pending}
        )
        seeds = seeds_of(window)
        pinned = {
            str(r.id): str(seeds[r.incident_id])
            for r in window
            if r.incident_id is not None and r.id not in regroup
        }
        mapping = group_reports(_points(window), rules, pinned=pinned, closed=frozenset(closed))
    by_id = {r.id: r for r in window}
    incident_of, reseeded, created = incidents_for(org_id, by_id, mapping, seeds)
    lost: set[uuid.UUID] = set(old_of_touched)  # incidents that lost a member: full refresh
    gained: dict[uuid.UUID, list[Report]] = {}
    moves: dict[uuid.UUID, uuid.UUID] = {}
    for r in window:
        key = incident_of[mapping[str(r.id)]]
        if r.incident_id != key:
            moves[r.id] = key
            if r.incident_id is not None:
                lost.add(r.incident_id)
                result.moved += 1
            else:
                result.grouped += 1
            gained.setdefault(key, []).append(r)
    created = {iid: seed for iid, seed in created.items() if iid in gained}
    return Plan(
        located, window, by_id, mapping, twins, reseeded, created, moves, gained, lost, result
    )


def _points(reports: list[Report]) -> list[ReportPoint]:
    """Describe reports to the pure grouping."""
    return [
        ReportPoint(
            id=str(r.id),
            created_at=r.created_at,
            category=r.category_code,
            lat=r.lat,
            lon=r.lon,
            place=r.place or "",
        )
        for r in reports
    ]


def _fast(
    org_id: int,
    pending: list[Report],
    since: datetime,
    categories: set[str],
    rules: Rules,
    closed: set[str],
) -> tuple[
    list[Report] | None,
    dict[str, str] | None,
    dict[uuid.UUID, uuid.UUID] | None,
    dict[uuid.UUID, uuid.UUID],
]:
    """Group only the pending reports against the open incidents' anchors, if that is exact.

    A pending report that joins an existing incident changes nothing for anyone else (only
    anchors decide later reports). One that starts a new incident could attract reports
    created after it, so the shortcut holds only if no grouped report of a reachable
    category is that late, or if the earliest such report is the twin of an incident's
    seed (`server.incidents.twins`): then it takes that incident over under its own key.
    Otherwise (None, None, None, {}) sends the caller to the full regrouping. The last
    item maps each incident taken over to its old seed.
    """
    until = max(r.created_at for r in pending)
    window = _with_anchors(pending, _anchors(org_id, since, until, categories, rules, pending))
    seeds = seeds_of(window)
    pinned = {str(r.id): str(seeds[r.incident_id]) for r in window if r.incident_id is not None}
    mapping = group_reports(_points(window), rules, pinned=pinned, closed=frozenset(closed))
    starters = sorted(
        (r for r in pending if mapping[str(r.id)] == str(r.id)),
        key=lambda r: (r.created_at, str(r.id)),
    )
    twins: dict[uuid.UUID, uuid.UUID] = {}
    if starters and _later_grouped(org_id, categories, starters[0].created_at):
        # Only the earliest starter is tried as a twin; any other starter is checked for
        # grouped reports after it as before, and with one the full path runs.
        first = starters.pop(0)
        old = take_over(org_id, first, window, seeds, rules, closed)
        if old is None or (starters and _later_grouped(org_id, categories, starters[0].created_at)):
            return None, None, None, {}
        # The old seed joins the new one; every pending report already chose the new key
        # over the old (the same rank, a smaller key), so only the old seed's entry moves.
        new_key, old_key = str(first.id), str(old.id)
        mapping = {rid: new_key if key == old_key else key for rid, key in mapping.items()}
        twins[old.incident_id] = old.id  # type: ignore[index]
    return window, mapping, seeds, twins


def _closure(categories: set[str], rules: Rules) -> set[str]:
    """Return the categories reachable from these through relatedness (itself included)."""
    seen = set(categories)
    todo = list(categories)
    while todo:
        for other in rules.related_to(todo.pop()):
            if other not in seen:
                seen.add(other)
                todo.append(other)
    return seen


def _later_grouped(org_id: int, categories: set[str], moment: datetime) -> bool:
    """Tell whether a grouped report of these categories was created at or after `moment`."""
    return (
        db.session.scalar(
            select(Report.id)
            .where(
                Report.org_id == org_id,
                Report.category_code.in_(categories),
                Report.created_at >= moment,
                Report.incident_id.is_not(None),
            )
            .limit(1)
        )
        is not None
    )
