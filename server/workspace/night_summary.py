"""The night view's numbers, counted exactly as the morning digest counts the same night.

Both read `server.digest.content.tally`: the same period bounds (18:00–06:00 local time),
the same shared items (what the person's scope may read at `reports` or more), calm rounds
apart. Calm rounds are proof of presence — who was out, how many rounds, first and last —
and never incidents waiting for a status.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from babel.numbers import format_decimal

from server.digest.content.tally import period_tally
from server.sharing.rules import Scope
from server.translations import translations
from server.workspace import labels as lb
from server.workspace.hooks import localtime
from server.workspace.i18n import current_lang, t


def counted(key: str, n: int) -> str:
    """Return a counted catalog message ("1 lugnt pass", "4 lugna pass") as the digest does."""
    lang = current_lang()
    message = translations(lang).ngettext(f"{key}.one", f"{key}.other", n)
    return message.format(n=format_decimal(n, locale=lang))


def night_summary(scope: Scope, start: datetime, end: datetime) -> dict[str, Any]:
    """Count the night [start, end) and describe its calm rounds, for the night view."""
    tally = period_tally(scope, start, end)
    calm = tally.calm
    line = t(
        "summary.counts_calm" if tally.calm_rounds else "summary.counts",
        incidents=counted("count.incidents", tally.incidents),
        reports=counted("count.reports", tally.reports),
        calm=counted("count.calm_rounds", tally.calm_rounds),
    )
    return {
        "tally": tally,
        "line": line,
        "presence": [
            {
                "kind": lb.kind_label(k.kind),
                "rounds": counted("count.calm_rounds", k.reports),
                "devices": k.devices,
            }
            for k in calm.calm_kinds
        ],
        "calm_first": localtime(calm.first_at, "%H:%M"),
        "calm_last": localtime(calm.last_at, "%H:%M"),
    }
