"""One simulated phone of the fault run: an outbox pushed in batches until acknowledged.

Reports get ids the device makes itself; a batch leaves the outbox only report by report as
the server acknowledges it (created, duplicate or updated); after a failure the device
waits with full jitter over an exponential cap, as the phone's `pwa/sync.js`. The `Ledger`
collects what every device was told, for the comparison in `tests/support/faultrun.py`.
"""

from __future__ import annotations

import random
import threading
import traceback
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

import requests

if TYPE_CHECKING:
    from tests.support.faultrun import FaultRunConfig

PUSH_PATH = "/api/v1/sync/push"
ACKED = frozenset({"created", "duplicate", "updated"})
# Answers after which the same batch is simply sent again later (nothing was stored, or
# the phone cannot know): the server busy, or unavailable behind a proxy.
RETRY_STATUSES = frozenset({502, 503, 504})
STOCKHOLM_WINTER = timezone(timedelta(hours=1))


def backoff(failures: int, base: float, cap: float, rng: random.Random) -> float:
    """Full jitter over an exponential cap, as `backoffDelay` in pwa/sync.js."""
    return rng.random() * min(cap, base * 2 ** max(0, failures - 1))


class Ledger:
    """What every device was told, shared by the device threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.created: Counter[str] = Counter()  # id → "created" answers
        self.lost_after_ack: list[str] = []
        self.errors: list[str] = []
        self.answers: Counter[str] = Counter()
        self.trials = 0

    def error(self, message: str) -> None:
        """Record something that must not happen."""
        with self.lock:
            self.errors.append(message)


class SimDevice:
    """One phone: an outbox of reports, pushed in batches until acknowledged."""

    def __init__(
        self,
        index: int,
        device_id: int,
        token: str,
        config: FaultRunConfig,
        ledger: Ledger,
        url: Callable[[], str],
    ) -> None:
        self.name = f"D{index}"
        self.device_id = device_id
        self.token = token
        self.config = config
        self.ledger = ledger
        self.url = url
        self.rng = random.Random(config.seed * 1000 + index)
        self.written: dict[str, dict[str, Any]] = {}
        self.outbox: list[str] = []
        self.acked: set[str] = set()
        self.when = datetime.now(STOCKHOLM_WINTER).replace(microsecond=0) - timedelta(hours=2)

    def write_reports(self) -> None:
        """Save a few new reports in the outbox, as the phone does offline."""
        for _ in range(self.rng.randint(*self.config.new_reports)):
            rid = str(uuid.UUID(int=self.rng.getrandbits(128), version=4))
            n = len(self.written)
            self.written[rid] = {
                "id": rid,
                "created_at": (self.when + timedelta(seconds=n)).isoformat(timespec="seconds"),
                "revision": 0,
                "category": "skadegorelse",
                "severity": 1 + n % 3,
                "description": f"{self.name}-{n}",
                "location": {"lat": 55.6398, "lon": 13.2083, "accuracy_m": 12.0},
                "place": f"Plats {self.name}",
                "people_count": n % 5,
                "photos": [],
            }
            self.outbox.append(rid)

    def run(self, stop: threading.Event, draining: threading.Event) -> None:
        """Write and push until stopped; when draining, push what is left and end."""
        try:
            self._loop(stop, draining)
        except Exception:  # noqa: BLE001 - recorded; the run fails on it
            self.ledger.error(f"{self.name} crashed:\n{traceback.format_exc()}")

    def _loop(self, stop: threading.Event, draining: threading.Event) -> None:
        cfg = self.config
        failures = 0
        session = requests.Session()
        while not stop.is_set():
            if not draining.is_set() and len(self.outbox) < cfg.batch[1] * 2:
                self.write_reports()
            if not self.outbox:
                if draining.is_set():
                    return
                stop.wait(self.rng.uniform(*cfg.think))
                continue
            batch = self.outbox[: self.rng.randint(*cfg.batch)]
            if self._push(session, batch):
                failures = 0
                stop.wait(self.rng.uniform(*cfg.think))
                continue
            failures += 1
            session.close()
            session = requests.Session()
            stop.wait(backoff(failures, cfg.backoff_base, cfg.backoff_max, self.rng))
        session.close()

    def _push(self, session: requests.Session, batch: list[str]) -> bool:
        """Push one batch; True when the server acknowledged every report in it."""
        ledger = self.ledger
        with ledger.lock:
            ledger.trials += 1
        try:
            resp = session.post(
                self.url() + PUSH_PATH,
                json={"reports": [self.written[rid] for rid in batch]},
                headers={"Authorization": f"Bearer {self.token}", "Connection": "close"},
                timeout=self.config.http_timeout,
            )
        except requests.RequestException as exc:
            with ledger.lock:
                ledger.answers[type(exc).__name__] += 1
            return False
        with ledger.lock:
            ledger.answers[str(resp.status_code)] += 1
        if resp.status_code in RETRY_STATUSES:
            return False
        if resp.status_code != 200:
            ledger.error(f"{self.name}: HTTP {resp.status_code}: {resp.text[:300]}")
            return False
        results = resp.json().get("results")
        if not isinstance(results, list) or len(results) != len(batch):
            ledger.error(f"{self.name}: {len(batch)} sent, answer {resp.text[:300]}")
            return False
        done = set()
        with ledger.lock:
            for rid, res in zip(batch, results, strict=True):
                status = res.get("status")
                if res.get("id") != rid or status not in ACKED:
                    ledger.errors.append(f"{self.name}: sent {rid}, answer {res}")
                    continue
                if status == "created":
                    ledger.created[rid] += 1
                    if rid in self.acked:  # the server had forgotten an acknowledged report
                        ledger.lost_after_ack.append(rid)
                self.acked.add(rid)
                done.add(rid)
        self.outbox = [rid for rid in self.outbox if rid not in done]
        return len(done) == len(batch)
