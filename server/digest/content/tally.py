"""How a night (or any period) is counted: the one rule the night view and the digest share.

- incidents: the visible incidents with a report in the period, calm rounds left out;
- reports: the visible reports of the period that are not calm rounds;
- action ("kräver åtgärd"): of those incidents, the urgent ones not yet closed;
- calm rounds: the "lugnt" reports, apart, as proof of presence (who was out, how many
  rounds, first and last) — never incidents waiting for a status.

Visible means what the scope may read at `reports` or more (`rows.period_reports`,
`rows.load_incidents`): the organisation's own items and what agreements share with it.
The period's bounds are `analysis.calendar.period_for` (the night: 18:00–06:00 local time).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from server.categories import NOT_INCIDENTS
from server.digest.content.model import CALM, Calm
from server.digest.content.reporting import calm_of
from server.digest.content.rows import ReportRow, device_kinds, load_incidents, period_reports
from server.incidents.models import CLOSED_STATUSES, Incident
from server.sharing.rules import Scope


class Counted(Protocol):
    """What counting needs of an incident (an `Incident` row or a digest item)."""

    urgent: bool
    status: str


@dataclass(frozen=True)
class Tally:
    """The numbers of a period, as both the night view and the digest show them."""

    incidents: int
    reports: int
    action: int
    calm: Calm

    @property
    def calm_rounds(self) -> int:
        """Return the number of calm rounds ("lugnt" reports)."""
        return self.calm.calm_reports


def needs_action(incident: Counted) -> bool:
    """Tell whether an incident is "kräver åtgärd": urgent and not yet closed."""
    return bool(incident.urgent) and incident.status not in CLOSED_STATUSES


def is_calm(category: str) -> bool:
    """Tell whether a category is the calm round's ("lugnt"): presence, not an incident."""
    return category == CALM


def kept_apart(category: str) -> bool:
    """Tell whether a category is never a night incident: a calm round or a walk's note."""
    return category in NOT_INCIDENTS


def tally(rows: Sequence[ReportRow], incidents: Iterable[Incident], kinds: dict[int, str]) -> Tally:
    """Count the period's reports and the visible incidents they belong to (see the module)."""
    counted = [i for i in incidents if not kept_apart(i.category_code)]
    return Tally(
        incidents=len(counted),
        reports=sum(1 for r in rows if not kept_apart(r.category)),
        action=sum(1 for i in counted if needs_action(i)),
        calm=calm_of(rows, kinds),
    )


def period_tally(scope: Scope, start: datetime, end: datetime) -> Tally:
    """Read and count the period [start, end) as the digest does, for the night view."""
    rows = period_reports(scope, start, end)
    kinds = device_kinds(scope.owners("reports"), {r.device_id for r in rows})
    incidents = load_incidents(scope, {r.incident_id for r in rows if r.incident_id is not None})
    return tally(rows, incidents, kinds)
