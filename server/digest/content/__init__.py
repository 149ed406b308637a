"""What the morning digest and the weekly/monthly lägesbild say: one organisation's view.

`build_digest` reads a period of the organisation's reports and incidents and returns a
`Digest`: a tree of frozen dataclasses holding plain values only (no ORM objects, `model`),
so it can be rendered (`server.digest.render`) after the database session is gone.

The periods — night, week, month, in local wall-clock time — and the periods they are
compared with are `analysis.calendar.period_for` and `comparison_periods`.

Every section is bounded by time, so the cost follows the period, not the store. One
module a section, each reading the period's reports loaded once (`rows`):

- `items`: the incidents as shown, "kräver åtgärd" and the list by area;
- `comparison`: counts against the same period 1..4 weeks (months) back;
- `recurring`: recurring places (28 days, or the month) with new reports in the period;
- `followups`: open incidents from the 90 days before the period;
- `reporting`: reports per device kind, calm rounds, devices with unsent reports or gone
  silent (by kind only, never a person).

`build` puts them together. The digest reads with the organisation's sharing scope
(`shared`): shared incidents at `reports` or `full` are items marked with their owner (below
`full` without free text or photos), a `counts` agreement only adds to the comparison's
numbers, and what no agreement covers is read nowhere.
"""

from server.digest.content.build import build_digest
from server.digest.content.followups import FOLLOWUP_DAYS, FOLLOWUP_LIMIT
from server.digest.content.items import ACTION_LIMIT, short_text
from server.digest.content.model import (
    CALM,
    AreaGroup,
    Calm,
    CategoryInfo,
    DeviceAlert,
    Digest,
    FollowUps,
    IncidentItem,
    KindCount,
    Owner,
    Period,
    PlaceItem,
    Purged,
    TrendRow,
    Trends,
)
from server.digest.content.recurring import recurring_days
from server.digest.content.reporting import SILENT_AFTER, SILENT_LOOKBACK_DAYS

__all__ = [
    "ACTION_LIMIT",
    "CALM",
    "FOLLOWUP_DAYS",
    "FOLLOWUP_LIMIT",
    "SILENT_AFTER",
    "SILENT_LOOKBACK_DAYS",
    "AreaGroup",
    "Calm",
    "CategoryInfo",
    "DeviceAlert",
    "Digest",
    "FollowUps",
    "IncidentItem",
    "KindCount",
    "Owner",
    "Period",
    "PlaceItem",
    "Purged",
    "TrendRow",
    "Trends",
    "build_digest",
    "recurring_days",
    "short_text",
]
