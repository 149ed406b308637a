"""One pass of the alerts job: open alerts, escalate, send pushes, send the last level's mail.

Every worker of every host runs it every few seconds (server.alerts.worker) and after
each push; the unique keys and leases make each step happen once. Tests call it with a
frozen `now`.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import current_app

from server.alerts import escalation, fanout, mail, sender
from server.jobs import process_owner
from sync.clock import utcnow


@dataclass
class Summary:
    """What one pass did."""

    opened: list[int] = field(default_factory=list)
    escalated: list[tuple[int, int]] = field(default_factory=list)
    pushes: dict[str, int] = field(default_factory=dict)
    mails: dict[str, int] = field(default_factory=dict)


def tick(
    now: datetime | None = None,
    *,
    owner: str | None = None,
    config: Mapping[str, Any] | None = None,
    stop: threading.Event | None = None,
) -> Summary:
    """Run one pass at `now` (default: the clock) as `owner` (default: host:pid)."""
    now = now or utcnow()
    owner = owner or process_owner()
    config = config if config is not None else current_app.config
    summary = Summary()
    summary.opened = fanout.open_alerts(now)
    summary.escalated = escalation.escalate_due(now)
    summary.pushes = sender.drain(now, owner, config, stop)
    summary.mails = mail.send_due(now, owner, config)
    return summary
