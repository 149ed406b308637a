"""Field-by-field last-writer-wins merge of device edits to reports.

Every device-owned field of a report is an independent LWW register: it holds a value and
the clock (device edit time, revision) of the edit that wrote it. Merging keeps, per field,
the register with the greatest ``field_key``. Taking a per-field maximum is commutative,
associative and idempotent, so every server reaches the same state however often, in
whatever order and in whatever batches a report's edits arrive.

Only ``DEVICE_FIELDS`` take part. Coordinator-owned data (status, comments, incident link)
is not a device field: keys outside ``DEVICE_FIELDS`` in an edit are silently ignored, so a
device can never overwrite what a coordinator decided.

Values are treated as immutable JSON data: ``Edit`` takes a deep copy on the way in and
``values_of`` hands out a deep copy, so callers cannot alias the merge state.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

from sync.clock import as_utc

DEVICE_FIELDS: tuple[str, ...] = (
    "created_at",
    "category",
    "severity",
    "description",
    "location",
    "place",
    "people_count",
    "photos",
)

# The clock of a field that has no stored clock (rows written before clocks existed):
# it loses to any real edit, so the first edit that carries a clock takes over.
MIN_TIME = datetime.min.replace(tzinfo=UTC)


def _check_revision(revision: int) -> None:
    """Reject revisions that are not non-negative ints."""
    # bool is an int subclass; True as a revision is a caller bug, not revision 1.
    if type(revision) is not int or revision < 0:
        raise ValueError(f"revision must be a non-negative int, got {revision!r}")


def _copy_json(value: Any) -> Any:
    """Copy a JSON value (dicts, lists, scalars); several times faster than deepcopy."""
    if isinstance(value, dict):
        return {key: _copy_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_copy_json(item) for item in value]
    return value


@dataclass(frozen=True)
class Edit:
    """Hold one device write of a whole report."""

    values: Mapping[str, Any]
    edited_at: datetime
    revision: int

    def __post_init__(self) -> None:
        """Keep only device fields, deep-copied, and normalise the clock to UTC."""
        missing = [name for name in DEVICE_FIELDS if name not in self.values]
        if missing:
            # A device always sends the whole report; a gap means a normaliser bug and
            # silently defaulting it would overwrite a real value with None.
            raise ValueError(f"edit lacks device fields: {', '.join(missing)}")
        own = {name: _copy_json(self.values[name]) for name in DEVICE_FIELDS}
        _check_revision(self.revision)
        object.__setattr__(self, "values", MappingProxyType(own))
        object.__setattr__(self, "edited_at", as_utc(self.edited_at, "edited_at"))


@dataclass(frozen=True)
class FieldState:
    """Hold one field's value and the clock of the edit that wrote it."""

    value: Any
    edited_at: datetime
    revision: int

    def __post_init__(self) -> None:
        """Normalise the clock to UTC so comparisons never mix offsets."""
        _check_revision(self.revision)
        object.__setattr__(self, "edited_at", as_utc(self.edited_at, "edited_at"))


ReportState = dict[str, FieldState]


class Outcome(enum.StrEnum):
    """Name what a merge did to a report; every outcome acknowledges the edit."""

    CREATED = "created"
    DUPLICATE = "duplicate"
    UPDATED = "updated"
    # The report was deleted on the server (e.g. retention); a resend must not revive it.
    GONE = "gone"


@dataclass(frozen=True)
class MergeResult:
    """Describe the result of merging one edit into one report."""

    outcome: Outcome
    state: ReportState | None
    changed: frozenset[str]
    clocks_changed: bool


@dataclass(frozen=True)
class BatchResult:
    """Describe the result of applying a batch of edits."""

    results: list[MergeResult]
    final: dict[str, ReportState] = field(default_factory=dict)
    created: set[str] = field(default_factory=set)


def canonical(value: Any) -> str:
    """Return the canonical JSON text of a value, used for tie-breaks."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def field_key(fs: FieldState) -> tuple[datetime, int, str]:
    """Return the sort key that decides which register of a field wins."""
    # THE tie-break order: the later device edit time wins; at equal times the higher
    # revision wins; when both are equal the greater canonical JSON wins. The last step
    # is arbitrary but deterministic, so every server and every arrival order picks the
    # same value and the order is total (equal keys mean equal registers).
    return (fs.edited_at, fs.revision, canonical(fs.value))


def _clock(fs: FieldState) -> tuple[datetime, int]:
    """Return the clock part of a register."""
    return (fs.edited_at, fs.revision)


def _registers(edit: Edit) -> ReportState:
    """Return the register the edit proposes for every device field."""
    # Edit.__post_init__ has already put the clock in UTC and checked the revision, so the
    # registers skip FieldState's own checks: eight per report, on every push's hot path.
    when, revision = edit.edited_at, edit.revision
    return {name: _checked_register(edit.values[name], when, revision) for name in DEVICE_FIELDS}


def _checked_register(value: Any, edited_at: datetime, revision: int) -> FieldState:
    """Build a FieldState whose clock is known to be UTC and revision valid (no re-check)."""
    register = object.__new__(FieldState)
    object.__setattr__(register, "value", value)
    object.__setattr__(register, "edited_at", edited_at)
    object.__setattr__(register, "revision", revision)
    return register


def initial_state(edit: Edit) -> ReportState:
    """Return the state of a report created by its first edit."""
    return _registers(edit)


def merge(state: ReportState | None, edit: Edit, *, tombstoned: bool = False) -> MergeResult:
    """Merge one edit into a report's state, field by field."""
    if tombstoned:
        return MergeResult(Outcome.GONE, None, frozenset(), clocks_changed=False)
    if state is None:
        # A new report: every field is new, and so is every clock.
        fresh = initial_state(edit)
        return MergeResult(Outcome.CREATED, fresh, frozenset(DEVICE_FIELDS), clocks_changed=True)
    merged: ReportState = {}
    changed: set[str] = set()
    clocks_changed = False
    for name, incoming in _registers(edit).items():
        current = state.get(name)
        if current is not None and field_key(current) >= field_key(incoming):
            merged[name] = current
            continue
        # The incoming register wins. It is kept whole, clock included, even when the value
        # is unchanged: the state must be the maximum over ALL edits seen. Were we to keep
        # the old clock, a later edit with a middle-aged clock could beat the stale clock
        # here yet lose on a server that kept the newer one, and the servers would diverge.
        merged[name] = incoming
        if current is None or canonical(current.value) != canonical(incoming.value):
            changed.add(name)
        if current is None or _clock(current) != _clock(incoming):
            clocks_changed = True
    outcome = Outcome.UPDATED if changed else Outcome.DUPLICATE
    return MergeResult(outcome, merged, frozenset(changed), clocks_changed)


def apply_batch(
    existing: Mapping[str, ReportState],
    tombstoned: AbstractSet[str],
    items: Sequence[tuple[str, Edit]],
) -> BatchResult:
    """Merge a batch of (report id, edit) pairs in order, without mutating the inputs."""
    # A tombstone beats an existing row with the same id: deleted means never revived.
    working: dict[str, ReportState] = dict(existing)
    results: list[MergeResult] = []
    final: dict[str, ReportState] = {}
    created: set[str] = set()
    for report_id, edit in items:
        # Sequential on purpose: a second copy of an id in the batch sees the first's result.
        result = merge(working.get(report_id), edit, tombstoned=report_id in tombstoned)
        results.append(result)
        if result.state is None:
            continue
        if result.outcome is Outcome.CREATED:
            created.add(report_id)
        working[report_id] = result.state
        if result.changed or result.clocks_changed:
            final[report_id] = result.state
    return BatchResult(results=results, final=final, created=created)


def values_of(state: ReportState) -> dict[str, Any]:
    """Return a deep copy of the device field values of a state."""
    return {name: _copy_json(state[name].value) for name in DEVICE_FIELDS if name in state}


def clocks_to_json(state: ReportState) -> dict[str, list[Any]]:
    """Return the clocks of a state as JSON: {field: [utc iso time, revision]}."""
    # Values live in real columns; only the clocks need this column. Fixed microsecond
    # precision keeps the text stable so equal clocks serialise identically.
    # Usually every field shares one clock: format each distinct time once.
    texts: dict[datetime, str] = {}
    out: dict[str, list[Any]] = {}
    for name, register in state.items():
        if name in DEVICE_FIELDS:
            when = register.edited_at
            text = texts.get(when)
            if text is None:
                text = texts[when] = when.isoformat(timespec="microseconds")
            out[name] = [text, register.revision]
    return out


def _parse_clock(name: str, raw: Any) -> tuple[datetime, int]:
    """Return the clock stored for one field, the minimum clock when none is stored."""
    if raw is None:
        return MIN_TIME, 0
    # Corrupt clocks raise instead of defaulting: a silently reset clock would let any
    # stale resend overwrite the stored value.
    if not isinstance(raw, list | tuple) or len(raw) != 2 or not isinstance(raw[0], str):
        raise ValueError(f"malformed clock for {name}: {raw!r}")
    _check_revision(raw[1])
    return as_utc(datetime.fromisoformat(raw[0]), f"clock of {name}"), raw[1]


def state_from_columns(values: Mapping[str, Any], clocks: Mapping[str, Any] | None) -> ReportState:
    """Return the state rebuilt from stored column values and the stored clocks JSON."""
    clocks = clocks or {}
    missing = [name for name in DEVICE_FIELDS if name not in values]
    if missing:
        raise ValueError(f"values lack device fields: {', '.join(missing)}")
    state: ReportState = {}
    for name in DEVICE_FIELDS:
        # A missing clock (rows older than clocks) is the minimum: any real edit beats it.
        edited_at, revision = _parse_clock(name, clocks.get(name))
        state[name] = FieldState(_copy_json(values[name]), edited_at, revision)
    return state
