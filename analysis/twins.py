"""Recognise a re-key that changes nothing but the key: a new report twin to an incident's seed.

When a new report sorts before an incident's seed (same second, smaller id), it becomes
the seed, and in general every member must be checked against the new anchor: that costs
the incident's whole membership. When the new report is the old seed's *twin* for the
grouping, nothing can change but the key, and the pass can rename the incident instead.

Let p be a new report and s a stored report with:

1. the same ``created_at``, category, position (both None or equal) and normalised place
   text; the category groups (radius > 0); s reaches p (a position, or a place text
   when there is none); ``p.id < s.id``;
2. s anchors its own incident: its stored key is its id, it is not pinned, its key is not
   closed and no pinned report carries that key (so s started its incident: `best` found
   no anchor for it);
3. no other stored report of that second has an id strictly between ``p.id`` and ``s.id``,
   no pinned stored report of that second has a key strictly between them, and no stored
   report carries ``p.id`` as its key.

Then grouping the stored reports with p gives every stored report its stored key, except
that the key s becomes p everywhere (s included), and p gets p. Proof, in canonical order
``(created_at, id)``: before p nothing differs. At p the open anchors are those s met in the
stored grouping (rule 3: no report in between; the same second expires the same anchors);
p reaches exactly what s reached (rule 1), and s reached none (rule 2), so p starts the
incident p. At s the only new anchor is p, which s reaches at distance 0 (or by place),
so s joins p; p stays the anchor (it is the key's report). From then on the incident p is
anchored by p, which matches every report exactly as s did and ranks as s did, except its
key: ``best`` ranks by (distance, the anchor's created_at, key), and the key decides only
between anchors of the same second, where no key lies between p and s. (An anchor is its
key's own report, whose id is then the key, or its key's first member in canonical order;
and a key's first member is its own report or pinned: an unpinned report joins only a key
that has an anchor, a member, already. So rule 3 covers every anchor of that second.) So
every choice is the same, with s renamed p. Expiry depends only on the anchor's time and
category: the same.

Rule 1 with other place texts. The place text counts only where one side of a reach
has no position (`analysis.grouping._reach`: two fixes compare by distance alone). So when
p and s have the same position and no report without one lies within reach in time of
that second (`places_unread`: of a category related to theirs, within the longest window
of those categories, stored or pending), every reach that p or s takes part in compares
positions only, and p reaches and is reached by exactly what s is: the proof above holds
with any two place texts. The new seed then names the incident, its place text included
(`server.incidents.summary.take_seed`), as the full regroup would.

Pending reports other than p are left to the caller's usual checks; this module decides
only about one new report at a time against stored state.
"""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Set as AbstractSet
from datetime import timedelta

from analysis.grouping import ReportPoint, normalise_place
from analysis.grouping_rules import Rules
from analysis.local_grouping import StoredReport


def is_twin(new: ReportPoint, old: ReportPoint, rules: Rules, positions_only: bool = False) -> bool:
    """Tell whether two reports anchor alike and the new one sorts first (rule 1).

    `positions_only` says that no report without a position is within reach in time
    (`places_unread`); then two reports at one position are twins whatever their place texts.
    """
    fixed = new.lat is not None and old.lat is not None
    return (
        new.created_at == old.created_at
        and new.id < old.id
        and new.category == old.category
        and new.lat == old.lat
        and new.lon == old.lon
        and ((positions_only and fixed) or normalise_place(new.place) == normalise_place(old.place))
        and rules.rule_for(new.category).groups
        # Without a position an empty place text reaches nothing, not even its twin.
        and (new.lat is not None or normalise_place(new.place) != "")
    )


def place_reach(category: str, rules: Rules) -> tuple[frozenset[str], timedelta]:
    """Return the categories that can meet a report of this one and how far apart in time.

    A report of a related category meets it as its anchor within the anchor's window, or
    as the anchor it joins within that one's: the longest window of the related categories
    covers both directions (relatedness is symmetric).
    """
    related = rules.related_to(category)
    return related, max(rules.rule_for(c).window for c in related)


def places_unread(new: ReportPoint, others: Iterable[ReportPoint], rules: Rules) -> bool:
    """Tell whether no report without a position is within reach in time of the new one."""
    related, window = place_reach(new.category, rules)
    return not any(
        o.lat is None and o.category in related and abs(o.created_at - new.created_at) <= window
        for o in others
    )


def twin_seed(
    new: ReportPoint,
    same_second: Iterable[StoredReport],
    rules: Rules,
    closed: AbstractSet[str],
    pinned_keys: AbstractSet[str],
    keys_elsewhere: AbstractSet[str],
    positions_only: bool = False,
) -> str | None:
    """Return the key the new report takes over by renaming, or None when it cannot.

    `same_second` holds the stored reports created at the new report's second: all of
    them, or at least the candidate seeds, every report whose id lies between the new id
    and a candidate's, and every pinned one. `pinned_keys` holds the keys pinned reports carry (at
    least those of the candidates), `keys_elsewhere` the keys of stored reports outside
    `same_second` (at least the new id, if one carries it). `positions_only` is
    `places_unread` over every report, stored or pending (see `is_twin`).
    """
    reports = list(same_second)
    keys = {s.key for s in reports if s.key is not None}
    if new.id in keys or new.id in keys_elsewhere or new.id in pinned_keys:
        return None
    # Only the smallest id above the new one can be the twin: any other candidate would
    # have that report between them (rule 3).
    above = [s for s in reports if s.point.id > new.id and s.point.created_at == new.created_at]
    if not above:
        return None
    old = min(above, key=lambda s: s.point.id)
    key = old.point.id
    if (
        old.key != key
        or old.pinned
        or key in closed
        or key in pinned_keys
        or not is_twin(new, old.point, rules, positions_only)
    ):
        return None
    for s in reports:
        if s.point.created_at != new.created_at or s is old:
            continue
        if new.id < s.point.id < key or (s.pinned and new.id < str(s.key) < key):
            return None
    return key
