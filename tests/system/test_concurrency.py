"""Concurrent, overlapping, repeated pushes against a real gunicorn with several workers.

The promise under test: however often, in whatever order and however concurrently a report
is resent, it is stored exactly once, by the device that made it, with the values of its
latest edit; another device can never take it over.
"""

from __future__ import annotations

import random
import threading
import time
import traceback
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest
import requests

pytestmark = pytest.mark.slow

WORKERS = 3
POOL_SIZE = 400  # reports per owning device
OWNER_THREADS = 3  # threads per owning device (2 devices → 6 threads)
ITERATIONS = 10  # random batches per thread before the sweep
BATCH_SIZE = (20, 50)
FOREIGN_BATCH = (5, 15)
SWEEP_CHUNK = 40
JOIN_TIMEOUT = 90  # seconds for all clients together; a hang fails instead of blocking CI
ACKED = frozenset({"created", "duplicate", "updated"})


@dataclass
class Pool:
    """The reports one device owns, each with a planned list of edits."""

    label: str
    ids: list[str]
    created_at: dict[str, datetime]
    last_edit: dict[str, int]
    make: Callable[..., dict[str, Any]]

    def payload(self, report_id: str, edit: int) -> dict[str, Any]:
        """Return edit number `edit` of a report (0 = as first written)."""
        return self.make(
            report_id, f"{self.label}-{report_id[:8]}", self.created_at[report_id], edit
        )


def make_pool(label: str, size: int, start: datetime, rng: random.Random, make) -> Pool:
    """Plan `size` reports; about 40 % are edited up to three times later."""
    ids = [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(size)]
    return Pool(
        label=label,
        ids=ids,
        created_at={rid: start - timedelta(seconds=i) for i, rid in enumerate(ids)},
        last_edit={rid: rng.choice((0, 0, 0, 1, 2, 3)) for rid in ids},
        make=make,
    )


@dataclass
class Ledger:
    """What the clients saw, shared by all threads (guarded by one lock)."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    failures: list[str] = field(default_factory=list)
    acked_edit: dict[str, int] = field(default_factory=dict)  # id → highest acked edit
    created: Counter[str] = field(default_factory=Counter)  # id → "created" answers
    acked_of: dict[str, list[str]] = field(default_factory=dict)  # device name → acked ids
    statuses: Counter[str] = field(default_factory=Counter)
    foreign_tries: int = 0
    requests: int = 0

    def fail(self, message: str) -> None:
        with self.lock:
            self.failures.append(message)

    def sample_acked(self, device_name: str, k: int, rng: random.Random) -> list[str]:
        with self.lock:
            ids = self.acked_of.get(device_name, [])
            return rng.sample(ids, min(k, len(ids)))


class Client:
    """One thread's view: a device, its own requests.Session and the shared ledger."""

    def __init__(self, name: str, device, base_url: str, ledger: Ledger, seed: int) -> None:
        self.name = name
        self.device = device
        self.base_url = base_url
        self.ledger = ledger
        self.rng = random.Random(seed)
        self.session = requests.Session()

    def send(self, batch: list[dict[str, Any]], foreign: frozenset[str] = frozenset()) -> None:
        """Push a batch and check every answer; ids in `foreign` must be rejected."""
        led = self.ledger
        try:
            resp = self.device.push(self.session, self.base_url, batch)
        except requests.RequestException as exc:
            led.fail(f"{self.name}: push raised {exc!r}")
            return
        with led.lock:
            led.requests += 1
        if "database is locked" in resp.text:
            led.fail(f"{self.name}: 'database is locked' in answer: {resp.text[:300]}")
        if resp.status_code != 200:
            led.fail(f"{self.name}: HTTP {resp.status_code}: {resp.text[:500]}")
            return
        results = resp.json().get("results")
        if not isinstance(results, list) or len(results) != len(batch):
            got = len(results) if isinstance(results, list) else results
            led.fail(f"{self.name}: {len(batch)} reports sent, results: {got}")
            return
        with led.lock:
            for pos, (item, res) in enumerate(zip(batch, results, strict=True)):
                rid, status = item["id"], res.get("status")
                led.statuses[status] += 1
                if res.get("id") != rid:
                    led.failures.append(
                        f"{self.name}: result {pos} is for {res.get('id')}, report sent was {rid}"
                    )
                    continue
                if rid in foreign:
                    led.foreign_tries += 1
                    if status != "rejected" or "id" not in (res.get("errors") or {}):
                        led.failures.append(
                            f"{self.name}: foreign id {rid} was not rejected on 'id': {res}"
                        )
                    continue
                if status not in ACKED:
                    led.failures.append(f"{self.name}: own report {rid} got {res}")
                    continue
                if status == "created":
                    led.created[rid] += 1
                    led.acked_of.setdefault(self.device.name, []).append(rid)
                edit = item.get("revision", 0)
                led.acked_edit[rid] = max(edit, led.acked_edit.get(rid, -1))


def owner_loop(client: Client, pool: Pool, slot: int) -> None:
    """Random overlapping batches with resends and edits, then a sweep, then stale resends."""
    rng = client.rng
    previous: list[dict[str, Any]] | None = None
    for _ in range(ITERATIONS):
        if previous is not None and rng.random() < 0.25:
            batch = previous  # the phone never got the answer: the same batch again
        else:
            ids = rng.sample(pool.ids, rng.randint(*BATCH_SIZE))
            batch = [pool.payload(rid, rng.randint(0, pool.last_edit[rid])) for rid in ids]
            if rng.random() < 0.3:  # the same report twice in one batch, another edit
                rid = rng.choice(ids)
                twin = pool.payload(rid, rng.randint(0, pool.last_edit[rid]))
                batch.insert(rng.randrange(len(batch) + 1), twin)
        client.send(batch)
        previous = batch
    # Sweep: every report of this thread's share, at its latest edit (all threads at once).
    mine = pool.ids[slot::OWNER_THREADS]
    for start in range(0, len(mine), SWEEP_CHUNK):
        chunk = mine[start : start + SWEEP_CHUNK]
        client.send([pool.payload(rid, pool.last_edit[rid]) for rid in chunk])
    # Stale resends after the latest edit: original versions must not win.
    stale = rng.sample(pool.ids, 30)
    client.send([pool.payload(rid, 0) for rid in stale])


def intruder_loop(client: Client, victim: Pool, victim_name: str, own: Pool) -> None:
    """Mix ids another device already stored with own new reports; the former must fail.

    The intruder sends its own content under the victim's ids, so a merge would show in the
    stored values.
    """
    rng = client.rng
    previous: tuple[list[dict[str, Any]], frozenset[str]] | None = None
    own_iter = iter(own.ids)
    for _ in range(ITERATIONS + 4):
        if previous is not None and rng.random() < 0.25:
            batch, foreign = previous
        else:
            stolen = client.ledger.sample_acked(victim_name, rng.randint(*FOREIGN_BATCH), rng)
            fresh = [next(own_iter) for _ in range(rng.randint(*FOREIGN_BATCH))]
            batch = [
                own.make(rid, f"intruder-{client.name}", victim.created_at[rid], rng.randint(0, 3))
                for rid in stolen
            ] + [own.payload(rid, 0) for rid in fresh]
            rng.shuffle(batch)
            foreign = frozenset(stolen)
        client.send(batch, foreign)
        previous = (batch, foreign)


def guarded(ledger: Ledger, name: str, fn: Callable[..., None], *args: Any) -> Callable[[], None]:
    """Wrap a thread body so an exception becomes a recorded failure."""

    def run() -> None:
        try:
            fn(*args)
        except Exception:  # noqa: BLE001 - reported below, the test fails on it
            ledger.fail(f"{name} crashed:\n{traceback.format_exc()}")

    return run


def test_concurrent_overlapping_pushes_store_each_report_once(
    system, make_report, device_time
) -> None:
    began = time.monotonic()
    rng = random.Random(20261122)
    server = system.gunicorn(workers=WORKERS).start()
    org = system.create_org("Concurrency kommun")
    other_org = system.create_org("Grannkommun")
    dev_a = system.enrol(server, org, "Telefon A")
    dev_b = system.enrol(server, org, "Telefon B")
    dev_c = system.enrol(server, org, "Telefon C")  # same organisation as A
    dev_d = system.enrol(server, other_org, "Telefon D")  # another organisation

    pool_a = make_pool("A", POOL_SIZE, device_time, rng, make_report)
    pool_b = make_pool("B", POOL_SIZE, device_time, rng, make_report)
    own_c = make_pool("C", 400, device_time, rng, make_report)
    own_d = make_pool("D", 400, device_time, rng, make_report)
    ledger = Ledger()

    def client(name: str, device) -> Client:
        return Client(name, device, server.url, ledger, rng.getrandbits(32))

    bodies = []
    for slot in range(OWNER_THREADS):
        bodies.append((f"A{slot}", owner_loop, client(f"A{slot}", dev_a), pool_a, slot))
        bodies.append((f"B{slot}", owner_loop, client(f"B{slot}", dev_b), pool_b, slot))
    bodies.append(("C", intruder_loop, client("C", dev_c), pool_a, dev_a.name, own_c))
    bodies.append(("D", intruder_loop, client("D", dev_d), pool_a, dev_a.name, own_d))
    threads = [
        threading.Thread(target=guarded(ledger, name, fn, *args), name=name, daemon=True)
        for name, fn, *args in bodies
    ]
    assert len(threads) == 8
    for t in threads:
        t.start()
    deadline = time.monotonic() + JOIN_TIMEOUT
    for t in threads:
        t.join(timeout=max(0.0, deadline - time.monotonic()))
    hung = [t.name for t in threads if t.is_alive()]
    assert not hung, f"client threads still running after {JOIN_TIMEOUT} s: {hung}\n" + (
        server.log_tail()
    )
    server.stop()
    pushed = time.monotonic() - began

    assert not ledger.failures, (
        f"{len(ledger.failures)} bad answers:\n" + "\n".join(ledger.failures[:20]) + "\n"
        f"{server.log_tail()}"
    )
    problems = server.problems()
    assert not problems, (
        "server log shows errors:\n" + "\n".join(problems[:20]) + (f"\n{server.log_tail()}")
    )
    # The test really exercised what it claims.
    assert ledger.foreign_tries > 50, f"only {ledger.foreign_tries} foreign ids were tried"
    assert ledger.statuses["duplicate"] > 100 and ledger.statuses["updated"] > 10, ledger.statuses

    owners = {dev_a.id: pool_a, dev_b.id: pool_b}
    own_sent = {dev_c.id: own_c, dev_d.id: own_d}
    expected_ids: dict[str, tuple[int, int]] = {}  # id → (device id, org id)
    for dev in (dev_a, dev_b):
        expected_ids.update({rid: (dev.id, dev.org_id) for rid in owners[dev.id].ids})
    for dev in (dev_c, dev_d):
        sent = [rid for rid in own_sent[dev.id].ids if rid in ledger.acked_edit]
        expected_ids.update({rid: (dev.id, dev.org_id) for rid in sent})

    # Every answer: each report created exactly once, and acknowledged at its latest edit.
    created_wrong = {rid: n for rid, n in ledger.created.items() if n != 1}
    never_created = [rid for rid in expected_ids if ledger.created[rid] == 0]
    assert not created_wrong and not never_created, (
        f"'created' answered more than once: {list(created_wrong.items())[:10]}; "
        f"never answered 'created': {never_created[:10]}"
    )
    for pool in (pool_a, pool_b):
        unacked = [r for r in pool.ids if ledger.acked_edit.get(r) != pool.last_edit[r]]
        assert not unacked, f"latest edit never acknowledged for {unacked[:10]}"

    stored = system.stored_reports()
    assert not stored.duplicates, f"reports stored more than once: {stored.duplicates[:10]}"
    assert stored.total_rows == len(expected_ids), (
        f"{stored.total_rows} rows stored, {len(expected_ids)} distinct reports sent; "
        f"extra: {sorted(set(stored.by_id) - set(expected_ids))[:10]}"
    )
    wrong: list[str] = []
    for rid, (device_id, org_id) in expected_ids.items():
        row = stored.by_id.get(rid)
        if row is None:
            wrong.append(f"{rid}: missing")
            continue
        if (row["device_id"], row["org_id"]) != (device_id, org_id):
            wrong.append(f"{rid}: owned by device {row['device_id']}, org {row['org_id']}")
        pool = owners.get(device_id)
        if pool is not None:
            want = pool.payload(rid, pool.last_edit[rid])
            got = (row["description"], row["severity"], row["people_count"])
            if got != (want["description"], want["severity"], want["people_count"]):
                wrong.append(f"{rid}: stored {got}, latest edit is {want['description']!r}")
    assert not wrong, f"{len(wrong)} reports wrong in the database:\n" + "\n".join(wrong[:20])
    print(
        f"\n[{system.backend}] {ledger.requests} pushes, statuses {dict(ledger.statuses)},"
        f" {stored.total_rows} reports; push phase {pushed:.1f} s,"
        f" total {time.monotonic() - began:.1f} s"
    )


CONTEST_ROUNDS = 15
CONTEST_IDS = 12  # fresh ids per round, pushed by both organisations at the same moment
BARRIER_TIMEOUT = 30


def test_new_id_pushed_by_two_organisations_at_once_gets_one_owner(
    system, make_report, device_time
) -> None:
    """Two organisations' devices create the same new ids at the same moment.

    Only this race reaches push()'s IntegrityError retry (server/reports/service.py): the
    organisations hold different change-counter locks, so both may try the INSERT. Exactly
    one device must own each id; the other must get "rejected" every time, never a 500.
    """
    rng = random.Random(777)
    server = system.gunicorn(workers=WORKERS).start()
    org_1, org_2 = system.create_org("Norra kommun"), system.create_org("Södra kommun")
    dev_a = system.enrol(server, org_1, "Telefon A")
    dev_d = system.enrol(server, org_2, "Telefon D")
    rounds = [
        [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(CONTEST_IDS)]
        for _ in range(CONTEST_ROUNDS)
    ]
    # Three pushes per organisation at once (a phone retrying a slow push, or two phones).
    clients = [(f"{d.name[-1]}{n}", d) for d in (dev_a, dev_d) for n in range(3)]
    barrier = threading.Barrier(len(clients), timeout=BARRIER_TIMEOUT)
    lock = threading.Lock()
    failures: list[str] = []
    seen: dict[str, dict[int, Counter[str]]] = {}  # id → device id → status counts

    def run(name: str, device, seed: int) -> None:
        crng = random.Random(seed)
        session = requests.Session()
        try:
            for ids in rounds:
                chosen = crng.sample(ids, crng.randint(CONTEST_IDS // 2, CONTEST_IDS))
                batch = [make_report(rid, f"{device.name}", device_time) for rid in chosen]
                barrier.wait()
                resp = device.push(session, server.url, batch)
                if resp.status_code != 200:
                    with lock:
                        failures.append(f"{name}: HTTP {resp.status_code}: {resp.text[:300]}")
                    continue
                results = resp.json()["results"]
                with lock:
                    if [r.get("id") for r in results] != chosen:
                        failures.append(f"{name}: results not one per report in order")
                        continue
                    for res in results:
                        status = res.get("status")
                        if status == "rejected" and "id" not in (res.get("errors") or {}):
                            failures.append(f"{name}: rejected for another reason: {res}")
                        per_device = seen.setdefault(res["id"], {})
                        per_device.setdefault(device.id, Counter())[status] += 1
        except threading.BrokenBarrierError:
            with lock:
                failures.append(f"{name}: barrier broken (another client failed or hung)")
        except Exception:  # noqa: BLE001 - recorded; the test fails on it
            barrier.abort()
            with lock:
                failures.append(f"{name} crashed:\n{traceback.format_exc()}")
        finally:
            session.close()

    threads = [
        threading.Thread(target=run, args=(n, d, rng.getrandbits(32)), name=n, daemon=True)
        for n, d in clients
    ]
    for t in threads:
        t.start()
    deadline = time.monotonic() + JOIN_TIMEOUT
    for t in threads:
        t.join(timeout=max(0.0, deadline - time.monotonic()))
    assert not any(t.is_alive() for t in threads), f"clients hung\n{server.log_tail()}"
    server.stop()

    assert not failures, (
        f"{len(failures)} bad answers:\n" + "\n".join(failures[:20]) + f"\n{server.log_tail()}"
    )
    problems = server.problems()
    assert not problems, "server log shows errors:\n" + "\n".join(problems[:20])

    stored = system.stored_reports()
    assert not stored.duplicates, f"reports stored more than once: {stored.duplicates[:10]}"
    devices = {dev_a.id: dev_a, dev_d.id: dev_d}
    wrong: list[str] = []
    for rid, per_device in seen.items():
        owners = [d for d, c in per_device.items() if c["created"]]
        row = stored.by_id.get(rid)
        if len(owners) != 1 or sum(c["created"] for c in per_device.values()) != 1:
            wrong.append(f"{rid}: 'created' answers {per_device}")
            continue
        owner = owners[0]
        for dev_id, counts in per_device.items():
            allowed = {"created", "duplicate"} if dev_id == owner else {"rejected"}
            if set(counts) - allowed:
                wrong.append(f"{rid}: device {dev_id} got {dict(counts)}, owner is {owner}")
        if row is None:
            wrong.append(f"{rid}: acknowledged to device {owner} but not stored")
        elif (row["device_id"], row["description"]) != (owner, f"{devices[owner].name} v0"):
            wrong.append(f"{rid}: stored as device {row['device_id']} {row['description']!r}")
    assert not wrong, f"{len(wrong)} contested ids wrong:\n" + "\n".join(wrong[:20])
    assert stored.total_rows == len(seen)
    owned_by = Counter(stored.by_id[rid]["device_id"] for rid in seen)
    print(f"\n[{system.backend}] contested ids owned per device: {dict(owned_by)}")
