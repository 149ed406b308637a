"""SIGKILL the whole gunicorn process group while phones push, restart, and resend.

The promise under test: a report the server acknowledged (HTTP 200, status created,
duplicate or updated) survives the crash, and resending whatever was not acknowledged never
stores a report twice.
"""

from __future__ import annotations

import random
import threading
import time
import traceback
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest
import requests

pytestmark = pytest.mark.slow

WORKERS = 2
CLIENTS = 4  # two threads per device
KILLS = 2
RUN_BEFORE_KILL = (2.0, 3.0)  # seconds of pushing before each SIGKILL
MIN_ACKS_PER_ROUND = 20  # a round only ends once the server acknowledged this many reports
ROUND_TIMEOUT = 15.0
DOWN_TIME = 0.3  # seconds without a server; clients meet refused connections
AFTER_LAST_RESTART = 1.0
DRAIN_TIMEOUT = 30.0  # to deliver every unacknowledged report after the last restart
BATCH_SIZE = (10, 30)
RETRY_PAUSE = 0.05
JOIN_GRACE = 15.0  # > the HTTP timeout, so a thread inside a request can finish
ACKED = frozenset({"created", "duplicate", "updated"})


@dataclass
class Shared:
    """State every client thread reads: where the server is and which phase we are in."""

    url: str
    lock: threading.Lock = field(default_factory=threading.Lock)
    draining: threading.Event = field(default_factory=threading.Event)
    stop: threading.Event = field(default_factory=threading.Event)
    failures: list[str] = field(default_factory=list)
    created: Counter[str] = field(default_factory=Counter)  # id → "created" answers

    def fail(self, message: str) -> None:
        with self.lock:
            self.failures.append(message)


class Phone:
    """A client with an outbox: batches stay queued until the server acknowledges them."""

    def __init__(self, name: str, device, shared: Shared, seed: int, make, when: datetime) -> None:
        self.name = name
        self.device = device
        self.shared = shared
        self.rng = random.Random(seed)
        self.make = make
        self.when = when
        self.outbox: list[list[dict[str, Any]]] = []
        self.generated: dict[str, dict[str, Any]] = {}
        self.acked: set[str] = set()
        self.conn_errors = 0
        self.cut_off = 0  # connection errors other than "refused": the kill hit a request
        self.answer_lost = 0  # first answer for a report was "duplicate": stored, answer lost
        self.requests = 0
        self.resent_acked = 0

    def acked_now(self) -> set[str]:
        """Return a copy of the acknowledged ids (taken under the shared lock)."""
        with self.shared.lock:
            return set(self.acked)

    def _new_batch(self) -> list[dict[str, Any]]:
        batch = []
        for _ in range(self.rng.randint(*BATCH_SIZE)):
            rid = str(uuid.UUID(int=self.rng.getrandbits(128), version=4))
            n = len(self.generated)
            body = self.make(rid, f"{self.name}-{n}", self.when - timedelta(seconds=n))
            self.generated[rid] = body
            batch.append(body)
        return batch

    def run(self) -> None:
        try:
            self._loop()
        except Exception:  # noqa: BLE001 - recorded; the test fails on it
            self.shared.fail(f"{self.name} crashed:\n{traceback.format_exc()}")

    def _loop(self) -> None:
        session = requests.Session()
        while not self.shared.stop.is_set():
            if not self.outbox:
                if self.shared.draining.is_set():
                    return
                self.outbox.append(self._new_batch())
            batch = list(self.outbox[0])
            if self.acked and self.rng.random() < 0.3:  # resend some acknowledged reports too
                extra = self.rng.sample(sorted(self.acked), min(5, len(self.acked)))
                batch += [self.generated[rid] for rid in extra]
                self.rng.shuffle(batch)
            try:
                self.requests += 1
                resp = self.device.push(session, self.shared.url, batch)
            except requests.RequestException as exc:
                # Server killed mid-request or down: keep the batch, try again shortly.
                self.conn_errors += 1
                self.cut_off += "refused" not in str(exc)
                session.close()
                session = requests.Session()
                time.sleep(RETRY_PAUSE)
                continue
            if self._accept(batch, resp):
                self.outbox.pop(0)
            else:
                time.sleep(RETRY_PAUSE)
        session.close()

    def _accept(self, batch: list[dict[str, Any]], resp: requests.Response) -> bool:
        """Record what the server acknowledged; False keeps the batch in the outbox."""
        sh = self.shared
        if resp.status_code != 200:
            sh.fail(f"{self.name}: HTTP {resp.status_code}: {resp.text[:500]}")
            return False
        results = resp.json().get("results")
        if not isinstance(results, list) or len(results) != len(batch):
            sh.fail(f"{self.name}: {len(batch)} reports sent, answer {resp.text[:300]}")
            return False
        ok = True
        with sh.lock:
            for item, res in zip(batch, results, strict=True):
                rid, status = item["id"], res.get("status")
                if res.get("id") != rid or status not in ACKED:
                    sh.failures.append(f"{self.name}: sent {rid}, answer {res}")
                    ok = False
                    continue
                if status == "created":
                    sh.created[rid] += 1
                    if rid in self.acked:
                        # Acknowledged before, yet the server created it anew: it was lost.
                        sh.failures.append(f"{self.name}: acknowledged {rid} was created again")
                elif rid in self.acked:
                    self.resent_acked += 1
                elif status == "duplicate" and not sh.created[rid]:
                    self.answer_lost += 1
                self.acked.add(rid)
        return ok


def _missing_in_db(system, ids: set[str]) -> set[str]:
    return ids - set(system.stored_reports().by_id)


def test_sigkill_during_pushes_loses_and_duplicates_nothing(
    system, make_report, device_time
) -> None:
    began = time.monotonic()
    rng = random.Random(4242)
    server = system.gunicorn(workers=WORKERS).start()
    org = system.create_org("Crash kommun")
    devices = [system.enrol(server, org, f"Telefon {n}") for n in (1, 2)]
    shared = Shared(url=server.url)
    phones = [
        Phone(f"P{i}", devices[i % 2], shared, rng.getrandbits(32), make_report, device_time)
        for i in range(CLIENTS)
    ]
    threads = [threading.Thread(target=p.run, name=p.name, daemon=True) for p in phones]

    def acked_total() -> int:
        return sum(len(p.acked_now()) for p in phones)

    kills: list[str] = []
    drained = 0.0
    try:
        for t in threads:
            t.start()
        for round_no in range(1, KILLS + 1):
            round_start, acks_before = time.monotonic(), acked_total()
            time.sleep(rng.uniform(*RUN_BEFORE_KILL))
            while acked_total() - acks_before < MIN_ACKS_PER_ROUND:
                assert time.monotonic() - round_start < ROUND_TIMEOUT, (
                    f"round {round_no}: too few acknowledgements\n"
                    f"{shared.failures[:5]}\n{server.log_tail()}"
                )
                time.sleep(0.1)
            server.kill()  # os.killpg(pgid, SIGKILL): master and workers, mid-request
            # Every answer received so far was sent before the kill: all of it must be stored.
            acked = set().union(*(p.acked_now() for p in phones))
            missing = _missing_in_db(system, acked)
            assert not missing, (
                f"kill {round_no}: {len(missing)} of {len(acked)} acknowledged reports are "
                f"not in the database: {sorted(missing)[:10]}\n{server.log_tail()}"
            )
            if system.backend == "sqlite":
                assert system.sqlite_integrity() == ["ok"], f"kill {round_no}: corrupt database"
            time.sleep(DOWN_TIME)
            restart = time.monotonic()
            server.start()
            shared.url = server.url
            kills.append(
                f"kill {round_no} at {len(acked)} acknowledged"
                f" (up again in {time.monotonic() - restart:.1f} s)"
            )
        time.sleep(AFTER_LAST_RESTART)
        shared.draining.set()
        drain_start = time.monotonic()
        deadline = drain_start + DRAIN_TIMEOUT
        for t in threads:
            t.join(timeout=max(0.0, deadline - time.monotonic()))
        drained = time.monotonic() - drain_start
    finally:
        shared.stop.set()
        for t in threads:
            t.join(timeout=JOIN_GRACE)
    server.stop()

    undelivered = {p.name: sum(len(b) for b in p.outbox) for p in phones if p.outbox}
    assert not undelivered, (
        f"reports still unacknowledged {DRAIN_TIMEOUT:.0f} s after the last restart: "
        f"{undelivered}; failures: {shared.failures[:10]}\n{server.log_tail()}"
    )
    assert not shared.failures, (
        f"{len(shared.failures)} bad answers:\n" + "\n".join(shared.failures[:20]) + "\n"
        f"{server.log_tail()}"
    )
    problems = server.problems()
    assert not problems, "server log shows errors:\n" + "\n".join(problems[:20])
    conn_errors = sum(p.conn_errors for p in phones)
    cut_off = sum(p.cut_off for p in phones)
    assert cut_off > 0, "no push was in flight at a kill; the test exercised nothing"

    generated = {rid: (p, body) for p in phones for rid, body in p.generated.items()}
    acked = set().union(*(p.acked for p in phones))
    assert acked == set(generated), "test bug: drained clients left reports unacknowledged"
    many_created = {rid: n for rid, n in shared.created.items() if n > 1}
    assert not many_created, f"'created' answered more than once: {list(many_created.items())[:10]}"

    stored = system.stored_reports()
    assert not stored.duplicates, f"reports stored more than once: {stored.duplicates[:10]}"
    lost = sorted(acked - set(stored.by_id))
    assert not lost, f"{len(lost)} acknowledged reports lost: {lost[:10]}"
    assert stored.total_rows == len(generated), (
        f"{stored.total_rows} rows for {len(generated)} distinct reports generated"
    )
    wrong = [
        f"{rid}: device {row['device_id']}, {row['description']!r}"
        for rid, row in stored.by_id.items()
        if (row["device_id"], row["description"])
        != (generated[rid][0].device.id, generated[rid][1]["description"])
    ]
    assert not wrong, "stored reports differ from what was sent:\n" + "\n".join(wrong[:10])
    if system.backend == "sqlite":
        assert system.sqlite_integrity() == ["ok"]
    print(
        f"\n[{system.backend}] {'; '.join(kills)}; {len(generated)} reports,"
        f" {sum(p.requests for p in phones)} pushes, {conn_errors} connection errors"
        f" ({cut_off} pushes cut off mid-request, {sum(p.answer_lost for p in phones)}"
        " reports stored whose answer was lost),"
        f" {sum(p.resent_acked for p in phones)} acknowledged reports resent;"
        f" drained in {drained:.1f} s; total {time.monotonic() - began:.1f} s"
    )
