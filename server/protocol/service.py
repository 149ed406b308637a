"""What the server does with a device's push (store, group, answer) and pull."""

from __future__ import annotations

from typing import Any

from server.db import phase
from server.devices.models import Device
from server.devices.service import parse_pending, record_outbox
from server.incidents.grouping import assign_pending
from server.orgs.counter import lock_counter
from server.protocol import pull, push


def receive_push(device: Device, raw_items: list[Any]) -> list[dict[str, Any]]:
    """Store a batch, put what it changed into incidents, and return one result per report."""
    pushed = push.push(device, raw_items)
    if pushed.wrote:
        # Its own transaction: the reports are safe before the grouping runs, and a report
        # the grouping has not seen yet is picked up by the next pass.
        with phase("write"):
            lock_counter(device.org_id)
            assign_pending(device.org_id, pushed.edited)
    return push.answer(device, pushed)


def answer_pull(
    device: Device, cursor: str | None, limit: int | None, pending: str | None
) -> dict[str, Any]:
    """Record the phone's outbox count, if sent, and return its changes since the cursor."""
    if pending is not None:
        record_outbox(device, parse_pending(pending))
    return pull.pull(device, cursor, limit)
