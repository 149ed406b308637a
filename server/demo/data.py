"""Generate deterministic demo field reports for Staffanstorp municipality (pure Python).

Payloads have exactly the sync push shape. Places are real; coordinates are approximate
(about a hundred metres) and meant for demos, not as a gazetteer.
"""

from __future__ import annotations

import math
import random
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

TZ = ZoneInfo("Europe/Stockholm")

CATEGORY_CODES: tuple[str, ...] = (
    "skadegorelse", "brand", "miljo", "samling", "narkotika", "trafik",
    "brott", "otrygg_plats", "rykten", "stod", "lugnt", "ovrigt",
)  # fmt: skip
PLACE_KINDS = frozenset(
    {"station", "centrum", "skola", "park", "idrott", "bostad", "parkering", "kyrka"}
)
TOWNS: tuple[str, ...] = ("Staffanstorp", "Hjärup", "Kyrkheddinge")


@dataclass(frozen=True, slots=True)
class DemoPlace:
    """Describe a real place in the municipality."""

    name: str
    town: str
    lat: float
    lon: float
    kind: str


@dataclass(frozen=True, slots=True)
class DemoDevice:
    """Describe a field device by its display name and reporter role."""

    name: str
    kind: str


@dataclass(frozen=True, slots=True)
class DemoReport:
    """Pair a sync push payload with the name of the device that sent it."""

    device_name: str
    payload: dict[str, Any]


_S, _H, _K = TOWNS
# (place, hotspot weight): the bus stop, the stations and the squares draw most reports.
_PLACE_TABLE: tuple[tuple[DemoPlace, int], ...] = (
    (DemoPlace("Busshållplatsen Malmövägen/Storgatan", _S, 55.6398, 13.2083, "station"), 12),
    (DemoPlace("Torget vid Rådhuset", _S, 55.6420, 13.2065, "centrum"), 10),
    (DemoPlace("Rådhusgången", _S, 55.6427, 13.2052, "centrum"), 4),
    (DemoPlace("Balders hage", _S, 55.6445, 13.2030, "park"), 4),
    (DemoPlace("Baldersskolan", _S, 55.6455, 13.2015, "skola"), 2),
    (DemoPlace("Storegårdsskolan", _S, 55.6410, 13.2130, "skola"), 3),
    (DemoPlace("Mellanvångsskolan", _S, 55.6462, 13.2165, "skola"), 2),
    (DemoPlace("Mellanvångsparken", _S, 55.6472, 13.2182, "park"), 2),
    (DemoPlace("Sockerbruksparken", _S, 55.6372, 13.2165, "park"), 3),
    (DemoPlace("Sockerstan", _S, 55.6358, 13.2192, "bostad"), 2),
    (DemoPlace("Staffansvallen", _S, 55.6345, 13.2005, "idrott"), 3),
    (DemoPlace("Hagalidparken", _S, 55.6330, 13.2042, "park"), 2),
    (DemoPlace("Pendlarparkeringen Kronoslättsvägen", _S, 55.6375, 13.1960, "parkering"), 3),
    (DemoPlace("Vikhem", _S, 55.6395, 13.1880, "bostad"), 2),
    (DemoPlace("Hjärups station", _H, 55.6697, 13.1426, "station"), 12),
    (DemoPlace("Jakriborg", _H, 55.6706, 13.1388, "bostad"), 3),
    (DemoPlace("Hjärups centrum", _H, 55.6688, 13.1500, "centrum"), 6),
    (DemoPlace("Hjärups skola", _H, 55.6678, 13.1468, "skola"), 2),
    (DemoPlace("Hjärupslundsskolan", _H, 55.6700, 13.1558, "skola"), 3),
    (DemoPlace("Uppåkraskolan", _H, 55.6726, 13.1595, "skola"), 2),
    (DemoPlace("Uppåkravallen", _H, 55.6707, 13.1602, "idrott"), 2),
    (DemoPlace("Hjärups park", _H, 55.6742, 13.1555, "park"), 3),
    (DemoPlace("Uppåkra kyrka", _H, 55.6664, 13.1722, "kyrka"), 1),
    (DemoPlace("Kyrkheddinge kyrka", _K, 55.6462, 13.2875, "kyrka"), 2),
    (DemoPlace("Busshållplatsen Kyrkheddinge väg 11", _K, 55.6447, 13.2850, "station"), 2),
)
PLACES: tuple[DemoPlace, ...] = tuple(place for place, _ in _PLACE_TABLE)

# Ways people in the field actually write a hotspot's name.
_VARIANTS: dict[str, tuple[str, ...]] = {
    "Busshållplatsen Malmövägen/Storgatan": ("Busskuren Malmövägen", "Malmövägen, cykelstället"),
    "Torget vid Rådhuset": ("Torget", "Torget, vid bänkarna"),
    "Hjärups station": ("Stationsbron, cykelparkeringen", "Hjärups station, östra plattformen"),
    "Hjärups centrum": ("Hjärups centrum, lastkajen",),
    "Jakriborg": ("Jakriborg, innergården",),
}

DEVICES: tuple[DemoDevice, ...] = (
    DemoDevice("Väktarbil 1", "vaktare"),
    DemoDevice("Väktarbil 2", "vaktare"),
    DemoDevice("Fältarna Staffanstorp", "faltare"),
    DemoDevice("Nattvandrarna Staffanstorp", "nattvandrare"),
    DemoDevice("Nattvandrarna Hjärup", "nattvandrare"),
)


@dataclass(frozen=True, slots=True)
class DemoPartner:
    """Another organisation of the demo's shared lägesbild, with its own devices."""

    name: str
    kind: str
    devices: tuple[DemoDevice, ...]


# The housing company's caretakers and the guard company's own car report too; each
# organisation owns its reports and shares them by agreement (docs/sharing.md).
PARTNERS: tuple[DemoPartner, ...] = (
    DemoPartner("Staffanstorpshus (demo)", "bostadsbolag", (DemoDevice("Bovärdarna", "other"),)),
    DemoPartner("Väktarbolaget Syd (demo)", "vaktbolag", (DemoDevice("Väktarbil Syd", "vaktare"),)),
)

# device -> (towns, weekdays the shift starts, start hour, end hour past midnight, reports)
_ROUTINES: dict[str, tuple[tuple[str, ...], tuple[int, ...], int, int, tuple[int, int]]] = {
    "Väktarbil 1": ((_S, _K), (0, 1, 2, 3, 4, 5, 6), 18, 30, (5, 10)),
    "Väktarbil 2": ((_H, _S), (3, 4, 5), 18, 30, (4, 8)),
    "Fältarna Staffanstorp": ((_S, _H), (0, 1, 2, 3, 4), 17, 23, (2, 5)),
    "Nattvandrarna Staffanstorp": ((_S,), (4, 5), 21, 25, (1, 3)),
    "Nattvandrarna Hjärup": ((_H,), (4, 5), 21, 25, (1, 3)),
    "Bovärdarna": ((_S, _H), (0, 1, 2, 3, 4), 16, 20, (0, 3)),
    "Väktarbil Syd": ((_K, _H), (4, 5, 6), 20, 29, (2, 5)),
}

_CATEGORY_WEIGHTS: dict[str, dict[str, int]] = {
    "vaktare": {"skadegorelse": 18, "brand": 2, "miljo": 16, "samling": 14, "narkotika": 5,
                "trafik": 10, "brott": 5, "otrygg_plats": 5, "rykten": 1, "stod": 2,
                "lugnt": 6, "ovrigt": 6},
    "faltare": {"skadegorelse": 6, "miljo": 6, "samling": 30, "narkotika": 6, "trafik": 6,
                "brott": 2, "otrygg_plats": 10, "rykten": 10, "stod": 10, "lugnt": 14,
                "ovrigt": 4},
    "nattvandrare": {"skadegorelse": 8, "miljo": 10, "samling": 25, "trafik": 8,
                     "otrygg_plats": 10, "stod": 5, "lugnt": 30, "ovrigt": 4},
    "other": {"skadegorelse": 20, "miljo": 25, "brand": 2, "samling": 6, "otrygg_plats": 8,
              "ovrigt": 6},
}  # fmt: skip

_Template = tuple[str, tuple[int | None, ...], tuple[int, int] | None]
# category -> (text, possible severities, people range used for "{n}" and people_count)
_TEMPLATES: dict[str, tuple[_Template, ...]] = {
    "skadegorelse": (
        ("Nytt klotter (tagg) på fasaden, ca 2 m².", (1, 2), None),
        ("Krossad glasruta, glassplitter på marken.", (2,), None),
        ("Sönderslagen papperskorg, sopor utspridda.", (1,), None),
        ("Sparkad dörr till soprummet, låset trasigt.", (2,), None),
        ("Sönderslagen bänk och nedriven skylt.", (1, 2), None),
    ),
    "brand": (
        ("Brand i papperskorg, släckt med handbrandsläckare.", (2, 3), None),
        ("Containerbrand, räddningstjänsten larmad via 112.", (3,), None),
        ("Bilbrand, räddningstjänsten och polis på plats.", (3,), None),
    ),
    "miljo": (
        ("Släckt belysning längs gång- och cykelvägen.", (1, 2), None),
        ("Två gatlampor ur funktion, mörkt stråk.", (1,), None),
        ("Skymmande buskar vid gångvägen, behöver klippas.", (None, 1), None),
        ("Mycket nedskräpning, flaskor och burkar.", (None, 1), None),
        ("Trasig dörr till cykelförrådet, går inte att låsa.", (1, 2), None),
    ),
    "samling": (
        ("Ca {n} ungdomar samlade, högljudda men ingen fara.", (1,), (5, 15)),
        ("Grupp om ca {n} ungdomar, uppskattad ålder 14–17, lugna vid samtal.", (1,), (3, 10)),
        ("Ca {n} personer, viss berusning och hög musik.", (1, 2), (4, 20)),
        ("Ca {n} ungdomar kastade smällare, vi pratade med gruppen.", (2,), (6, 25)),
        ("Hot mot personal från en grupp på ca {n} personer, polis kontaktad.", (3,), (3, 8)),
        ("Ca {n} ungdomar kring mopeder, skingrades när vi kom.", (1, 2), (3, 12)),
    ),
    "narkotika": (
        ("Misstänkt försäljning, korta möten vid en bil.", (2, 3), None),
        ("Stark lukt av cannabis från en grupp på ca {n} personer.", (2,), (2, 6)),
        ("Fynd av spruta i rabatten, lagd i kanyldunk.", (2,), None),
    ),
    "trafik": (
        ("Buskörning med moped på gång- och cykelvägen.", (2,), None),
        ("EPA-traktorer kör i hög fart på gatan.", (1, 2), None),
        ("Bil körde på gång- och cykelvägen, ingen skadad.", (2,), None),
        ("Rivstarter och sladdar på parkeringen.", (1,), None),
    ),
    "brott": (
        ("Slagsmål mellan {n} personer, polis larmad via 112.", (3,), (2, 4)),
        ("Inbrottsförsök i förråd, uppbruten dörr. Polisanmält.", (3,), None),
        ("Cykelstöld pågick, personerna avvek vid tilltal.", (2, 3), None),
        ("Kniv synlig i en grupp, polis larmad via 112.", (3,), (2, 5)),
    ),
    "otrygg_plats": (
        ("Mörkt stråk, flera undviker platsen kvällstid.", (1, 2), None),
        ("Skymd sikt vid gångtunneln, otryggt för gående.", (1,), None),
        ("Platsen upplevs otrygg: ingen belysning och ingen insyn.", (2,), None),
    ),
    "rykten": (
        ("Rykte i sociala medier om planerad samling på fredag.", (1, 2), None),
        ("Uppgifter om bråk som ska göras upp i helgen, oklart var.", (2,), None),
        ("Ungdomar berättar om en video som sprids, oro i gruppen.", (1,), None),
    ),
    "stod": (
        ("Ung person ensam och frusen, kontakt med socialjouren.", (2,), (1, 1)),
        ("Berusad person behövde hjälp, följd till taxi.", (1, 2), (1, 1)),
        ("Ungdom ledsen och orolig, samtal och stöd på plats.", (1, 2), (1, 1)),
    ),
    "lugnt": (
        ("Lugnt vid rondering, inga iakttagelser.", (None, 1), None),
        ("Pratade med några ungdomar, god stämning.", (None, 1), None),
        ("Fastigheten kontrollerad, allt låst och lugnt.", (None,), None),
    ),
    "ovrigt": (
        ("Upplåst port, låst av väktare.", (1,), None),
        ("Upphittad plånbok lämnad till polisen.", (None,), None),
        ("Inbrottslarm i fastighet, kontroll utan anmärkning.", (None, 1), None),
    ),
}
_CLOSING: dict[str, tuple[str, ...]] = {
    "vaktare": ("Lugn natt, inga iakttagelser.", "Passet avslutat. Lugn natt i {town}."),
    "nattvandrare": ("Lugn kväll, pratade med ungdomar.", "Nattvandringen klar, lugnt i {town}."),
}
_CLOSING_CHANCE = {"vaktare": 0.4, "nattvandrare": 0.5}


def _pick_place(rng: random.Random, towns: tuple[str, ...]) -> DemoPlace:
    """Pick a place in the given towns, weighted towards the hotspots."""
    # The first town is the device's home area and gets almost all of the visits.
    town = towns[0] if len(towns) == 1 or rng.random() < 0.88 else rng.choice(towns[1:])
    pool = [(place, weight) for place, weight in _PLACE_TABLE if place.town == town]
    return rng.choices([p for p, _ in pool], weights=[w for _, w in pool])[0]


def _location(rng: random.Random, place: DemoPlace) -> dict[str, float] | None:
    """Return a GPS fix a few to ~80 m from the place, or None (~5 %, no fix indoors)."""
    if rng.random() < 0.05:
        return None
    distance, bearing = rng.uniform(3.0, 80.0), rng.uniform(0.0, 2 * math.pi)
    dlat = distance * math.cos(bearing) / 111_320
    dlon = distance * math.sin(bearing) / (111_320 * math.cos(math.radians(place.lat)))
    return {
        "lat": round(place.lat + dlat, 6),
        "lon": round(place.lon + dlon, 6),
        "accuracy_m": round(rng.uniform(4.0, 40.0), 1),
    }


def _local_time(day: date, hours: float) -> datetime:
    """Return the Stockholm instant `hours` wall-clock hours after midnight on `day`."""
    minutes = int(hours * 60)
    wall = datetime(day.year, day.month, day.day, tzinfo=TZ) + timedelta(minutes=minutes)
    # Round-trip through UTC so a wall time in the spring DST gap gets a real offset.
    return wall.replace(second=int(hours * 3600) % 60).astimezone(UTC).astimezone(TZ)


def _payload(
    rng: random.Random, when: datetime, category: str, place: DemoPlace, text: str,
    severity: int | None, people: int | None,
) -> dict[str, Any]:  # fmt: skip
    """Build one sync push payload."""
    variants = _VARIANTS.get(place.name, ())
    label = rng.choice(variants) if variants and rng.random() < 0.4 else place.name
    return {
        "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "created_at": when.isoformat(timespec="seconds"),
        "category": category,
        "severity": severity,
        "description": text,
        "location": _location(rng, place),
        "place": label,
        "people_count": people,
        "photos": [],
    }


def _shift(rng: random.Random, device: DemoDevice, day: date) -> list[tuple[datetime, dict]]:
    """Generate one device's reports for the shift starting on `day`."""
    towns, weekdays, start, end, (low, high) = _ROUTINES[device.name]
    if day.weekday() not in weekdays:
        return []
    weekend = day.weekday() in (4, 5)
    count = rng.randint(low, high) + (rng.randint(0, 2) if weekend else 0)
    weights = _CATEGORY_WEIGHTS[device.kind]
    out = []
    for _ in range(count):
        category = rng.choices(list(weights), weights=list(weights.values()))[0]
        text, severities, people_range = rng.choice(_TEMPLATES[category])
        people = rng.randint(*people_range) if people_range else None
        when = _local_time(day, rng.triangular(start, end, min(end - 0.5, 23.0)))
        place = _pick_place(rng, towns)
        payload = _payload(
            rng, when, category, place, text.format(n=people), rng.choice(severities), people
        )
        out.append((when, payload))
    if rng.random() < _CLOSING_CHANCE.get(device.kind, 0.0):
        place = _pick_place(rng, towns)
        text = rng.choice(_CLOSING[device.kind]).format(town=place.town)
        when = _local_time(day, end - rng.uniform(0.05, 0.5))
        out.append((when, _payload(rng, when, "lugnt", place, text, rng.choice((None, 1)), None)))
    return out


def generate_reports(
    *,
    now: datetime,
    weeks: int = 4,
    seed: int = 1,
    devices: tuple[DemoDevice, ...] = DEVICES,
) -> list[DemoReport]:
    """Generate `weeks` weeks of night reports of the devices before `now`, sorted by time."""
    if now.tzinfo is None:
        now = now.replace(tzinfo=TZ)
    rng = random.Random(seed)
    since = now - timedelta(weeks=weeks)
    first = since.astimezone(TZ).date() - timedelta(days=1)
    last = now.astimezone(TZ).date()
    found: list[tuple[datetime, str, dict[str, Any]]] = []
    for offset in range((last - first).days + 1):
        day = first + timedelta(days=offset)
        for device in devices:
            for when, payload in _shift(rng, device, day):
                if since < when < now:
                    found.append((when, device.name, payload))
    found.sort(key=lambda item: (item[0], item[2]["id"]))
    return [DemoReport(device_name=name, payload=payload) for _, name, payload in found]
