"""The randomized fault run: simulated phones with outboxes, a faulty network, server kills.

Many simulated devices, each with its own outbox of reports with client-made ids, push
batches through a `FaultProxy` that drops, delays, duplicates, resets and cuts requests,
while a killer thread SIGKILLs the gunicorn process group now and then and starts it
again. A device retries every batch until the server acknowledges it, with full-jitter
exponential backoff like the phone's (`pwa/sync.js`, scaled down from 2 s … 5 min). After
the faulty phase the faults stop and every device drains its outbox; then what the
devices believe (every report acknowledged as created, duplicate or updated) is compared
with the database.

The device is `tests/support/faultdevice.py`, the network `tests/support/faultproxy.py`.
Used by tests/system/test_fault_run.py (bounded, in `make test`) and by
`python -m bench.faults` (long). `lost` and `duplicated` must both be 0.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import requests
import sqlalchemy as sa

from tests.support.faultdevice import Ledger, SimDevice
from tests.support.faultproxy import KINDS, FaultProxy, RandomPolicy
from tests.support.gunicorn import TEST_SECRET_KEY, GunicornError, GunicornServer

RESTART_ATTEMPTS = 3  # a start that times out on a loaded machine is tried again
# Share of requests that meet each network fault (the rest pass untouched).
RATES = {"drop": 0.04, "delay": 0.06, "duplicate": 0.05, "reset": 0.04, "cut": 0.05}


@dataclass
class FaultRunConfig:
    """How big, how long and how faulty a run is."""

    devices: int = 12
    seconds: float = 20.0
    seed: int = 14
    workers: int = 2
    rates: dict[str, float] = field(default_factory=lambda: dict(RATES))
    delay: tuple[float, float] = (0.05, 1.5)
    kill_every: tuple[float, float] = (4.0, 8.0)  # seconds between server kills
    down_time: tuple[float, float] = (0.05, 0.5)  # seconds the server stays dead
    batch: tuple[int, int] = (1, 25)  # reports per push
    new_reports: tuple[int, int] = (1, 8)  # reports a device writes at a time
    think: tuple[float, float] = (0.05, 0.4)  # seconds between a device's pushes
    backoff_base: float = 0.1
    backoff_max: float = 2.0
    http_timeout: float = 5.0
    drain_seconds: float = 90.0


@dataclass
class FaultRunResult:
    """What a run did and found."""

    trials: int  # push requests the devices sent
    reports: int  # distinct reports the devices wrote
    faults: Counter[str]
    lost: int  # acknowledged but not stored, or stored anew after an acknowledgement
    duplicated: int  # stored more than once, or stored but never written by a device
    undelivered: int  # still in an outbox after the drain
    wrong: int  # stored with other content or another device than written
    errors: list[str]
    seconds: float
    answers: Counter[str]  # HTTP statuses and connection errors the devices met

    def summary(self) -> str:
        """Return the printed figures, one per line."""
        faults = " ".join(f"{kind}={self.faults.get(kind, 0)}" for kind in (*KINDS, "kill"))
        answers = " ".join(f"{k}={v}" for k, v in sorted(self.answers.items()))
        lines = [
            ("trials", self.trials),
            ("reports", self.reports),
            ("faults", f"{sum(self.faults.values())} ({faults})"),
            ("answers", answers),
            ("lost", self.lost),
            ("duplicated", self.duplicated),
            ("undelivered", self.undelivered),
            ("wrong", self.wrong),
            ("errors", len(self.errors)),
            ("seconds", f"{self.seconds:.1f}"),
        ]
        return "\n".join(f"{name} {value}" for name, value in lines)


def setup_devices(
    database_url: str, data_dir: Path, server: GunicornServer, count: int
) -> list[tuple[int, str]]:
    """Create an organisation and `count` codes in the database; enrol each over HTTP."""
    from server.app import create_app
    from server.devices import service as devices
    from server.extensions import db
    from server.orgs import service as orgs

    app = create_app(
        {
            "TESTING": True,
            "LAGESBILD_ENV": "testing",
            "SECRET_KEY": TEST_SECRET_KEY,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "DATA_DIR": str(data_dir),
        }
    )
    with app.app_context():
        org = orgs.create(f"Felkörning {uuid.uuid4().hex[:6]}", "kommun")
        codes = [devices.issue_code(org, f"Telefon {n}", "vaktare", 24).code for n in range(count)]
        db.session.remove()
        db.engine.dispose()
    enrolled = []
    for code in codes:
        resp = requests.post(server.url + "/api/v1/enrol", json={"code": code}, timeout=10)
        resp.raise_for_status()
        body = resp.json()
        enrolled.append((int(body["device"]["id"]), body["token"]))
    return enrolled


def _killer(
    server: GunicornServer,
    proxy: FaultProxy,
    config: FaultRunConfig,
    stop: threading.Event,
    ledger: Ledger,
    kills: Counter[str],
) -> None:
    """SIGKILL the server group at random moments and start it again."""
    rng = random.Random(config.seed + 7)
    while not stop.wait(rng.uniform(*config.kill_every)):
        # Down from the devices' view until it is ready again: the readiness probe must not
        # queue behind a hundred devices' pushes (a real restart also begins with refusals).
        proxy.upstream_port = None
        try:
            server.kill()
        except GunicornError as exc:
            ledger.error(f"kill failed: {exc}")
            stop.set()
            return
        kills["kill"] += 1
        time.sleep(rng.uniform(*config.down_time))
        for attempt in range(1, RESTART_ATTEMPTS + 1):
            try:
                server.start(timeout=60)
                break
            except GunicornError as exc:
                if attempt == RESTART_ATTEMPTS:
                    ledger.error(f"restart failed: {exc}")
                    stop.set()
                    return
        proxy.upstream_port = server.port


def stored_rows(database_url: str) -> list[tuple[str, int, str]]:
    """Return (id, device_id, description) of every stored report."""
    engine = sa.create_engine(database_url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT id, device_id, description FROM reports"))
            return [
                (str(rid if isinstance(rid, uuid.UUID) else uuid.UUID(str(rid))), dev, text)
                for rid, dev, text in rows
            ]
    finally:
        engine.dispose()


def run(
    database_url: str,
    workdir: Path,
    config: FaultRunConfig,
    *,
    progress: Callable[[str], None] = lambda _line: None,
) -> FaultRunResult:
    """Run the fault run on a migrated database; return the comparison."""
    began = time.monotonic()
    data_dir, logs = workdir / "data", workdir / "logs"
    data_dir.mkdir(parents=True, exist_ok=True)
    server = GunicornServer(database_url, data_dir, logs / "gunicorn.log", workers=config.workers)
    server.start()
    policy = RandomPolicy(dict(config.rates), config.seed, delay=config.delay)
    proxy = FaultProxy(server.port, policy).start()
    ledger = Ledger()
    stop, draining, killer_stop = threading.Event(), threading.Event(), threading.Event()
    kills: Counter[str] = Counter()
    try:
        policy.enabled = False  # enrolment is not under test
        enrolled = setup_devices(database_url, data_dir, server, config.devices)
        policy.enabled = True
        devices = [
            SimDevice(i, dev_id, token, config, ledger, lambda: proxy.url)
            for i, (dev_id, token) in enumerate(enrolled)
        ]
        threads = [
            threading.Thread(target=d.run, args=(stop, draining), name=d.name, daemon=True)
            for d in devices
        ]
        killer = threading.Thread(
            target=_killer, args=(server, proxy, config, killer_stop, ledger, kills), daemon=True
        )
        for t in threads:
            t.start()
        killer.start()
        deadline = time.monotonic() + config.seconds
        while time.monotonic() < deadline and not ledger.errors:
            time.sleep(min(5.0, max(0.0, deadline - time.monotonic())))
            progress(
                f"{time.monotonic() - began:.0f} s: {ledger.trials} pushes,"
                f" {kills['kill']} kills, {sum(proxy.counts().values())} network faults"
            )
        killer_stop.set()
        killer.join(timeout=200)
        if ledger.errors:  # a broken run: no drain can succeed, stop at once
            stop.set()
        policy.enabled = False
        draining.set()
        drain_end = time.monotonic() + config.drain_seconds
        for t in threads:
            t.join(timeout=max(0.0, drain_end - time.monotonic()))
        stop.set()
        for t in threads:
            t.join(timeout=config.http_timeout + 5)
    finally:
        stop.set()
        killer_stop.set()
        proxy.stop()
        server.stop()
    ledger.errors += [f"server log: {line}" for line in server.problems()]
    return compare(database_url, devices, ledger, proxy.counts() + kills, began)


def compare(
    database_url: str,
    devices: list[SimDevice],
    ledger: Ledger,
    faults: Counter[str],
    began: float,
) -> FaultRunResult:
    """Compare every device's belief with the reports table."""
    rows = stored_rows(database_url)
    copies = Counter(rid for rid, _dev, _text in rows)
    by_id = {rid: (dev, text) for rid, dev, text in rows}
    written = {rid: (d.device_id, body) for d in devices for rid, body in d.written.items()}
    acked = set().union(*(d.acked for d in devices)) if devices else set()
    lost = (acked - set(by_id)) | set(ledger.lost_after_ack)
    duplicated = sum(n - 1 for n in copies.values()) + len(set(by_id) - set(written))
    wrong = [
        rid
        for rid, (dev, text) in by_id.items()
        if rid in written and (dev, text) != (written[rid][0], written[rid][1]["description"])
    ]
    undelivered = sum(len(d.outbox) for d in devices)
    return FaultRunResult(
        trials=ledger.trials,
        reports=len(written),
        faults=faults,
        lost=len(lost),
        duplicated=duplicated,
        undelivered=undelivered,
        wrong=len(wrong),
        errors=list(ledger.errors),
        seconds=time.monotonic() - began,
        answers=Counter(ledger.answers),
    )
