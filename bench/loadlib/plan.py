"""What each simulated phone sends: its reports, its photos and how they fall into sync passes.

A phone syncs in passes (pwa/sync.js): upload the photos its pending reports name
(sync-photos.js), push the pending reports (sync-push.js, at most 50 a request), pull
(sync-pull.js, with the outbox count). A shift's reports reach the server in a few such
passes; here each device makes `passes` of them, its reports and photos spread evenly.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.loadlib.photos import PhotoFile

# Categories of the brief's taxonomy that a night's reports mostly fall into.
CATEGORIES = ("skadegorelse", "miljo", "samling", "trafik", "otrygg_plats", "lugnt", "brand")
# A box around Staffanstorp (the brief's example municipality), about 10 x 8 km.
LAT_RANGE = (55.60, 55.67)
LON_RANGE = (13.15, 13.28)
NIGHT_HOURS = 11  # reports are dated within the last night (18:00-06:00)


@dataclass
class SyncPass:
    """One sync pass of a phone: photos to upload, then reports to push."""

    photos: list[PhotoFile]
    reports: list[dict[str, Any]]


@dataclass
class DevicePlan:
    """Everything one phone sends during the run, pass by pass."""

    token: str
    passes: list[SyncPass] = field(default_factory=list)

    @property
    def reports(self) -> int:
        """Return how many reports the plan pushes."""
        return sum(len(p.reports) for p in self.passes)


def report(rnd: random.Random, now: datetime, photos: list[str]) -> dict[str, Any]:
    """Return one new report as the phone's outbox sends it (pwa/report-fields.js)."""
    created = now - timedelta(minutes=rnd.randrange(10, NIGHT_HOURS * 60))
    category = rnd.choice(CATEGORIES)
    return {
        "id": str(uuid.UUID(int=rnd.getrandbits(128), version=4)),
        "created_at": created.replace(microsecond=0).isoformat(),
        "revision": 0,
        "category": category,
        "severity": rnd.randrange(1, 4),
        "description": f"Lasttest: {category} vid hållplatsen, {rnd.randrange(1, 9)} personer.",
        "location": {
            "lat": round(rnd.uniform(*LAT_RANGE), 6),
            "lon": round(rnd.uniform(*LON_RANGE), 6),
            "accuracy_m": float(rnd.randrange(5, 40)),
        },
        "place": None,
        "people_count": rnd.randrange(0, 9),
        "photos": photos,
    }


def split(items: list[Any], parts: int) -> list[list[Any]]:
    """Split `items` into `parts` runs of nearly equal length, in order (earlier runs longer)."""
    size, extra = divmod(len(items), parts)
    out, start = [], 0
    for i in range(parts):
        end = start + size + (1 if i < extra else 0)
        out.append(items[start:end])
        start = end
    return out


def device_plans(
    tokens: list[str],
    photos: list[PhotoFile],
    reports_each: int,
    photos_each: int,
    passes: int,
    seed: int = 14,
) -> list[DevicePlan]:
    """Plan every device: `reports_each` reports and `photos_each` photos in `passes` passes.

    Each photo belongs to one report (the first reports of its pass name one photo each, as
    a guard photographs one thing per report); `photos` must hold tokens x photos_each files.
    """
    if len(photos) < len(tokens) * photos_each:
        raise ValueError("not enough photos for the plan")
    if photos_each > reports_each:
        raise ValueError("every photo needs a report to name it")
    passes = max(1, min(passes, reports_each))
    rnd = random.Random(seed)
    now = datetime.now(UTC)
    plans = []
    for i, token in enumerate(tokens):
        own = photos[i * photos_each : (i + 1) * photos_each]
        plan = DevicePlan(token)
        photo_runs = split(own, passes)
        for run_photos, count in zip(
            photo_runs, [len(r) for r in split(list(range(reports_each)), passes)], strict=True
        ):
            named = [[p.sha256] for p in run_photos][:count]
            named += [[] for _ in range(count - len(named))]
            plan.passes.append(SyncPass(run_photos, [report(rnd, now, n) for n in named]))
        plans.append(plan)
    return plans
