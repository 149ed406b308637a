"""What the server does with a device's push (store, group or queue, answer) and pull."""

from __future__ import annotations

from typing import Any

from flask import current_app

from server.alerts import worker as alerts_worker
from server.db import phase
from server.devices.models import Device
from server.devices.service import parse_pending, record_outbox
from server.incidents import worker as grouping_worker
from server.incidents.grouping import assign_pending
from server.orgs.counter import lock_counter
from server.protocol import pull, push
from server.rounds.receive import receive as receive_rounds


def receive_push(device: push.Pusher, raw_items: list[Any]) -> list[dict[str, Any]]:
    """Store a batch, see that its reports reach their incidents, and answer per report."""
    pushed = push.push(device, raw_items)
    if pushed.wrote:
        # New reports wait in the queue (incident_id IS NULL) for the background pass.
        # Edits are regrouped here instead: the old incident they leave must be refreshed,
        # and the queue cannot carry "regroup this grouped report" without a new column.
        # Edits of stored reports are rare next to new ones, so the second transaction
        # stays off the common path. Its own transaction: the reports are safe first.
        mode = current_app.config["GROUPING"]
        if mode == "inline" or pushed.edited:
            with phase("write"):
                lock_counter(device.org_id)
                assign_pending(device.org_id, pushed.edited)
        elif mode == "background":
            grouping_worker.wake()  # this process's job; in "queue" mode another one groups
        alerts_worker.wake()  # an urgent report alerts the rota soon (server.alerts)
    return push.answer(device, pushed)


def receive_body(device: push.Pusher, reports: list[Any], body: dict[str, Any]) -> dict[str, Any]:
    """Store a push's reports, then its scans and round runs; answer each part per item."""
    answer: dict[str, Any] = {"results": receive_push(device, reports) if reports else []}
    # The rounds part has its own transaction: the reports are safe whatever it meets.
    answer.update(receive_rounds(device, body))
    return answer


def answer_pull(
    device: Device, cursor: str | None, limit: int | None, pending: str | None
) -> dict[str, Any]:
    """Record the phone's outbox count, if sent, and return its changes since the cursor."""
    if pending is not None:
        record_outbox(device, parse_pending(pending))
    return pull.pull(device, cursor, limit)
