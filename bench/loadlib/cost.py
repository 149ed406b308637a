"""Server CPU per operation: one client, one request at a time, CPU-seconds of the server.

The capacity plan needs what one report and one photo cost the server, apart from the
queueing a shared machine adds. One client sends each kind of request in turn, with no
concurrency; the CPU-seconds that gunicorn's process tree and PostgreSQL's used in the
phase, less what they use when idle (the jobs' ticks), divided by the operations, is the
cost of one. A report's cost includes its grouping pass, which runs in the background
after the push: the phase ends when no report waits for it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bench.ingestlib.server import http_call
from bench.loadlib import plan
from bench.loadlib.photos import make_jpeg
from bench.loadlib.serve import Serving, serving

IDLE_S = 5.0
REPORTS_PER_PUSH = 4  # as a shift-end sync pass pushes
PHOTO_KINDS = (("bench JPEG 1024x768", 1024, 768), ("phone photo 1600x1200", 1600, 1200))
GROUPING_WAIT_S = 120.0


@dataclass
class Phase:
    """One kind of request: how many, wall time and server CPU-seconds (idle removed)."""

    name: str
    ops: int
    wall_s: float
    cpu_s: float

    def as_json(self) -> dict[str, Any]:
        """Return the phase with per-operation figures."""
        return {
            "ops": self.ops,
            "wall_ms_per_op": self.wall_s / self.ops * 1000,
            "cpu_ms_per_op": self.cpu_s / self.ops * 1000,
            "ops_per_core_s": self.ops / self.cpu_s if self.cpu_s > 0 else None,
        }


def _server_cpu(srv: Serving) -> float:
    """Return gunicorn's and PostgreSQL's CPU-seconds so far."""
    used = srv.server_cpu()
    return used["gunicorn"] + used.get("postgres", 0.0)


def _ungrouped(srv: Serving) -> int:
    """Return how many reports still wait for the grouping pass."""
    engine = sa.create_engine(srv.database_url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            q = sa.text("SELECT count(*) FROM reports WHERE incident_id IS NULL")
            return int(conn.execute(q).scalar_one())
    finally:
        engine.dispose()


def _call(
    srv: Serving, method: str, path: str, token: str, body: bytes | None, ctype: str
) -> bytes:
    """Do one request; raise on an unexpected status."""
    headers = {"Authorization": f"Bearer {token}"}
    if body is not None:
        headers["Content-Type"] = ctype
    status, data = http_call(srv.gunicorn.port, method, path, body, headers)
    if status not in (200, 201):
        raise RuntimeError(f"{method} {path}: {status} {data[:200]!r}")
    return data


def measure_costs(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    """Start the server and measure each phase; return the figures."""
    rnd = random.Random(14)
    photos = {
        name: [make_jpeg(1000 + i, w, h) for i in range(args.photos)] for name, w, h in PHOTO_KINDS
    }
    with serving(tmp, 1, args.database_url) as srv:
        token = srv.setup.tokens[0]
        _call(srv, "GET", "/api/v1/sync/pull", token, None, "")  # warm both workers a little
        start = _server_cpu(srv)
        time.sleep(IDLE_S)
        idle_per_s = (_server_cpu(srv) - start) / IDLE_S
        phases: list[Phase] = []

        def phase(name: str, ops: int, work: Any, settle: Any = None) -> None:
            cpu0, t0 = _server_cpu(srv), time.monotonic()
            for i in range(ops):
                work(i)
            if settle is not None:
                settle()
            wall = time.monotonic() - t0
            cpu = _server_cpu(srv) - cpu0 - idle_per_s * wall
            phases.append(Phase(name, ops, wall, cpu))

        def push(_: int) -> None:
            now = datetime.now(UTC)
            reports = [plan.report(rnd, now, []) for _ in range(REPORTS_PER_PUSH)]
            _call(srv, "POST", "/api/v1/sync/push", token,
                  json.dumps({"reports": reports}).encode(), "application/json")  # fmt: skip

        def grouped() -> None:
            deadline = time.monotonic() + GROUPING_WAIT_S
            while _ungrouped(srv) and time.monotonic() < deadline:
                time.sleep(0.2)

        phase(f"push of {REPORTS_PER_PUSH} reports (with grouping)", args.pushes, push, grouped)
        # A phone pulls with its cursor: after the first pass, only what changed since.
        first = json.loads(_call(srv, "GET", "/api/v1/sync/pull", token, None, ""))
        while first.get("more"):
            path = "/api/v1/sync/pull?cursor=" + first["cursor"]
            first = json.loads(_call(srv, "GET", path, token, None, ""))
        pull_path = f"/api/v1/sync/pull?pending=0&cursor={first['cursor']}"
        phase(
            "pull with cursor", args.pushes, lambda _: _call(srv, "GET", pull_path, token, None, "")
        )
        for name, data in photos.items():

            def upload(i: int, data: list[bytes] = data) -> None:
                sha = hashlib.sha256(data[i]).hexdigest()
                _call(srv, "PUT", f"/api/v1/photos/{sha}", token, data[i], "image/jpeg")

            phase(f"photo upload, {name}", len(data), upload)
        return {
            "idle_cpu_cores": idle_per_s,
            "phases": {p.name: p.as_json() for p in phases},
            "facts": srv.facts,
        }


def print_costs(costs: dict[str, Any]) -> None:
    """Print CPU per operation and operations per core-second."""
    print("\n=== SERVER CPU PER OPERATION (one client, sequential; gunicorn + PostgreSQL)")
    for key, value in costs["facts"].items():
        print(f"  {key}: {value}")
    print(f"  idle (jobs' ticks): {costs['idle_cpu_cores']:.3f} cores, removed from each phase")
    for name, p in costs["phases"].items():
        per_core = p["ops_per_core_s"]
        rate = f"{per_core:.1f} per core-second" if per_core else "n/a"
        print(
            f"  {name}: {p['ops']} ops, {p['wall_ms_per_op']:.1f} ms wall and "
            f"{p['cpu_ms_per_op']:.1f} ms server CPU each -> {rate}"
        )
