"""Keep a round run one run across pushes: one round, its end after its start, its scans."""

from __future__ import annotations

import uuid

from server.rounds.models import RoundRun
from server.rounds.wire import Refused, RunIn, ScanIn

RUN_CONFLICT = "This round run id is already used for another round; the app must make a new id."
RUN_REFUSED = (
    "The round run this scan belongs to was refused in the same push, so the scan was not "
    "stored either; see the run's error."
)


def against_stored(stored: RoundRun, r: RunIn) -> Refused | None:
    """Return why a later item of a stored run of this device contradicts it, or None."""
    if r.round_id is not None and r.round_id != stored.round_id:
        # One id, two rounds: not a resend of the same run, so not a `duplicate`.
        return Refused("conflict", RUN_CONFLICT)
    if r.ended_at is not None and r.ended_at < stored.started_at_device:
        # The same phone's clock on both ends: compared as sent, like within one item.
        return Refused("bad_time", "ended_at is before the run's started_at.")
    return None


def refuse_scans_of_refused_runs(
    runs: dict[uuid.UUID, RoundRun], device_id: int, scans: list[ScanIn], items: list[RunIn]
) -> None:
    """Reject the scans of a run refused in this push that is not stored as this device's.

    A scan is stored with its run once and never moved (a resend is a `duplicate`): stored
    loose it would lose its run for good, stored under the refused id it could join a run
    that is not this guard's (another device's, another round's). Rejected, it stays on the
    phone beside its refused run, with the reason. A scan of a stored run of this device
    whose update was refused (a bad end) is still part of that run.
    """
    refused = {r.id for r in items if r.error is not None and r.id is not None}
    for s in scans:
        if s.error is not None or s.round_run not in refused:
            continue
        run = runs.get(s.round_run)
        if run is None or run.device_id != device_id:
            s.error = Refused("run_refused", RUN_REFUSED)
