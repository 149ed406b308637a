"""Load clients (separate processes sharing the machine's cores with the server) and phases."""

from __future__ import annotations

import http.client
import json
import multiprocessing as mp
import os
import resource
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bench.ingestlib.common import CATEGORIES_PATH, NOT_FOUND_PATH, PUSH_PATH, percentile_ms
from bench.ingestlib.machine import busy_share, cpu_times, tree_cpu
from bench.ingestlib.payload import push_body, report_template

# Cheap HTTP baselines: (mode, description).
BASELINES = (
    ("404", "GET unknown /api path -> 404 JSON (gunicorn + Flask, no DB, no auth)"),
    ("categories", "GET /api/v1/categories (bearer auth + 1 read)"),
    ("push0", "POST push with 0 reports (auth + push fixed cost, no row written)"),
    ("push1", "POST push with 1 new report (fixed cost + 1 row + commit)"),
)


@dataclass(frozen=True)
class Request:
    """What a client of one mode sends, and the status it expects."""

    method: str
    path: str
    reports: int | None  # reports per push; None for a GET
    expected: int


def request_for(mode: str, batch: int) -> Request:
    """Return the request of a mode: push (the load) or one of BASELINES."""
    if mode == "404":
        return Request("GET", NOT_FOUND_PATH, None, 404)
    if mode == "categories":
        return Request("GET", CATEGORIES_PATH, None, 200)
    size = {"push": batch, "push0": 0, "push1": 1}[mode]
    return Request("POST", PUSH_PATH, size, 200)


@dataclass
class Phase:
    """The merged result of one timed load phase."""

    mode: str
    clients: int
    batch: int
    elapsed: float = 0.0
    requests: int = 0
    acked: int = 0
    rejected: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    non_expected: int = 0
    conn_errors: int = 0
    failed_requests: int = 0
    latencies: list[float] = field(default_factory=list)
    cpu_busy: float = 0.0  # fraction of all cores busy during the phase
    client_cpu_s: float = 0.0
    tree_cpu_s: dict[str, float] = field(default_factory=dict)  # watched process trees
    sample_error: str = ""

    def cores(self, cpu_seconds: float) -> float:
        """Convert CPU-seconds used during the phase into cores."""
        return cpu_seconds / self.elapsed if self.elapsed else 0.0

    @property
    def other_cores(self) -> float:
        """Cores used during the phase by processes that are not part of the benchmark."""
        ncpu = os.cpu_count() or 1
        ours = sum(self.tree_cpu_s.values()) + self.client_cpu_s
        return max(self.cpu_busy * ncpu - self.cores(ours), 0.0)

    def cpu_line(self) -> str:
        """Describe who used the CPU during the phase."""
        ncpu = os.cpu_count() or 1
        parts = [f"{label} {self.cores(cpu):.2f}" for label, cpu in self.tree_cpu_s.items()]
        parts.append(f"clients {self.cores(self.client_cpu_s):.2f}")
        parts.append(f"other processes {self.other_cores:.2f}")
        return (
            f"machine {self.cpu_busy * 100:.0f} % busy = {self.cpu_busy * ncpu:.2f} of {ncpu} "
            f"cores: " + ", ".join(parts)
        )

    @property
    def rps(self) -> float:
        """Requests per second."""
        return self.requests / self.elapsed if self.elapsed else 0.0

    @property
    def reports_per_s(self) -> float:
        """Acknowledged reports per second."""
        return self.acked / self.elapsed if self.elapsed else 0.0

    def pct(self, q: float) -> float:
        """Latency percentile in ms (nearest rank)."""
        return percentile_ms(self.latencies, q)

    def merge(self, res: dict[str, Any]) -> None:
        """Add one client's result."""
        self.requests += res["requests"]
        self.acked += res["acked"]
        self.rejected += res["rejected"]
        self.statuses.update(res["statuses"])
        self.non_expected += res["non_expected"]
        self.conn_errors += res["conn_errors"]
        self.failed_requests += res["failed"]
        self.latencies.extend(res["lat"])
        self.client_cpu_s += res["cpu"]
        self.sample_error = self.sample_error or res["sample_error"]


def _client(
    mode: str,
    port: int,
    token: str,
    batch: int,
    seconds: float,
    go: Any,
    t0: Any,
    out: Any,
) -> None:
    """One load client: keep sending until the deadline, then report through `out`."""
    req = request_for(mode, batch)
    size = req.reports
    headers = {"Authorization": f"Bearer {token}"}
    if req.method == "POST":
        headers["Content-Type"] = "application/json"
    template = report_template(datetime.now(UTC))
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    res: dict[str, Any] = {
        "requests": 0,
        "acked": 0,
        "rejected": 0,
        "statuses": Counter(),
        "non_expected": 0,
        "conn_errors": 0,
        "failed": 0,
        "lat": [],
        "sample_error": "",
    }
    lat: list[float] = res["lat"]
    go.wait()
    start = t0.value
    deadline = start + seconds
    while time.monotonic() < start:
        time.sleep(0.001)
    ru0 = resource.getrusage(resource.RUSAGE_SELF)
    while time.monotonic() < deadline:
        body = push_body(template, size) if size is not None else None
        for _attempt in range(3):
            t = time.perf_counter()
            try:
                conn.request(req.method, req.path, body, headers)
                resp = conn.getresponse()
                data = resp.read()
            except (OSError, http.client.HTTPException) as exc:
                # Resending the same batch is the phone's protocol: ids are idempotent.
                res["conn_errors"] += 1
                res["sample_error"] = res["sample_error"] or f"{type(exc).__name__}: {exc}"
                conn.close()
                continue
            lat.append(time.perf_counter() - t)
            break
        else:
            res["failed"] += 1
            continue
        res["requests"] += 1
        res["statuses"][resp.status] += 1
        if resp.status != req.expected:
            res["non_expected"] += 1
            res["sample_error"] = res["sample_error"] or f"{resp.status}: {data[:300]!r}"
            continue
        if size:
            for item in json.loads(data)["results"]:
                if item["status"] in ("created", "duplicate"):
                    res["acked"] += 1
                else:
                    res["rejected"] += 1
                    res["sample_error"] = res["sample_error"] or json.dumps(item)[:300]
    res["end"] = time.monotonic()
    ru1 = resource.getrusage(resource.RUSAGE_SELF)
    res["cpu"] = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
    conn.close()
    out.put(res)


def run_phase(
    mode: str,
    port: int,
    tokens: list[str],
    clients: int,
    batch: int,
    seconds: float,
    watch: dict[str, int] | None = None,
) -> Phase:
    """Run `clients` client processes in `mode` for `seconds` and merge their results.

    `watch` maps a label to the pid of a process tree (gunicorn, postgres) whose CPU use
    during the phase is reported.
    """
    watch = watch or {}
    ctx = mp.get_context("fork")
    go, t0, out = ctx.Event(), ctx.Value("d", 0.0), ctx.Queue()
    procs = [
        ctx.Process(
            target=_client,
            args=(mode, port, tokens[i % len(tokens)], batch, seconds, go, t0, out),
            daemon=True,
        )
        for i in range(clients)
    ]
    for p in procs:
        p.start()
    time.sleep(0.2)
    t0.value = time.monotonic() + 0.1
    go.set()
    while time.monotonic() < t0.value:
        time.sleep(0.001)
    cpu0 = cpu_times()
    trees0 = {label: tree_cpu(pid) for label, pid in watch.items()}
    results = [out.get(timeout=seconds + 300) for _ in procs]
    trees1 = {label: tree_cpu(pid) for label, pid in watch.items()}
    cpu1 = cpu_times()
    for p in procs:
        p.join(timeout=10)
    phase = Phase(mode, clients, batch)
    phase.elapsed = max(r["end"] for r in results) - t0.value
    for r in results:
        phase.merge(r)
    phase.latencies.sort()
    phase.cpu_busy = busy_share(cpu0, cpu1)
    # The CPU window runs until the last result arrived; close enough to `elapsed`.
    phase.tree_cpu_s = {label: trees1[label] - trees0[label] for label in watch}
    return phase
