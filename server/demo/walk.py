"""The demo's completed safety walk: Staffanstorp's centre after dark, three weeks ago.

Its observations are pushed as a night walkers' phone would push them (same path as every
demo report), so the protocol at /workspace/walks shows a real walk with stops, feelings
and counts of who took part.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from server.demo.data import TZ
from server.devices.models import Device
from server.protocol.service import receive_push
from server.walks import service as walks
from server.walks.models import Walk
from sync.clock import utcnow

# (name, lat, lon): from the bus stop through the square to the school, along the stråk.
STOPS = (
    ("Busshållplatsen Malmövägen/Storgatan", 55.6398, 13.2083),
    ("Torget vid Rådhuset", 55.6420, 13.2065),
    ("Rådhusgången", 55.6427, 13.2052),
    ("Balders hage", 55.6445, 13.2030),
    ("Baldersskolan", 55.6455, 13.2015),
)
PARTICIPANTS = {
    "residents": 11,
    "police": 2,
    "property_owners": 2,
    "politicians": 1,
    "officials": 3,
    "others": 1,
}
# (stop or None, category, feeling, note)
OBSERVATIONS = (
    (
        1,
        "vandring_belysning",
        "unsafe",
        "Två lampor släckta vid väntkuren, mörkt mot cykelstället.",
    ),
    (1, "vandring_skrap", "neutral", "Full papperskorg, skräp runt bänken."),
    (2, "vandring_ode", "safe", "Folk i rörelse och öppna caféer, känns tryggt."),
    (3, "vandring_sikt", "unsafe", "Häcken skymmer sikten in i gången, ingen utsikt åt torget."),
    (3, "vandring_klotter", "unsafe", "Nytt klotter på gavelväggen."),
    (4, "vandring_belysning", "unsafe", "Gångvägen genom parken saknar belysning helt."),
    (
        4,
        "vandring_tillganglighet",
        "neutral",
        "Trasig kant vid övergångsstället, svårt med rullator.",
    ),
    (5, "vandring_trafik", "unsafe", "Mopeder kör på gång- och cykelvägen vid skolan."),
    (None, "vandring_ovrigt", "safe", "Bra att nattvandrarna syns i området."),
)


# The walk three and a half weeks ago; its follow-up (walk_follow_up.py) three days ago.
DAYS_AGO = 24


def add_demo_walk(org_id: int, device: Device, now: datetime | None = None) -> Walk:
    """Plan the walk DAYS_AGO days ago, push its observations from the device, mark it done."""
    now = now or utcnow()
    day = (now.astimezone(TZ) - timedelta(days=DAYS_AGO)).date()
    area = walks.find_area(org_id, "staffanstorp")
    plan = walks.WalkPlan(
        area_id=area.id,
        walk_date=day,
        dark=True,
        route={"type": "LineString", "coordinates": [[lon, lat] for _, lat, lon in STOPS]},
        stops=tuple({"name": n, "lat": lat, "lon": lon} for n, lat, lon in STOPS),
        participants=PARTICIPANTS,
    )
    walk = walks.create_walk(org_id, plan)
    start = datetime(day.year, day.month, day.day, 19, 0, tzinfo=TZ)
    payloads: list[dict[str, Any]] = []
    for i, (stop, code, feeling, note) in enumerate(OBSERVATIONS):
        where = STOPS[(stop or len(STOPS)) - 1]
        payloads.append(
            {
                "id": str(uuid.uuid4()),
                "created_at": (start + timedelta(minutes=7 * i)).isoformat(),
                "category": code,
                "description": note,
                "location": {"lat": where[1] + 0.0001 * i, "lon": where[2], "accuracy_m": 10.0},
                "place": where[0] if stop else "",
                "walk_id": walk.id,
                "walk_stop": stop,
                "feeling": feeling,
            }
        )
    results = receive_push(device, payloads)
    refused = [r for r in results if r["status"] != "created"]
    if refused:
        raise RuntimeError(f"demo walk observations refused: {refused}")
    return walks.set_status(org_id, walk.id, "done")
