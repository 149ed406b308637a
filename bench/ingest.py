#!/usr/bin/env python3
"""Ingest benchmark for ``POST /api/v1/sync/push`` (see bench/README.md, docs/benchmarks.md).

Load mode (default)
    fresh temp database -> ``lagesbild db upgrade`` -> org + N devices (CLI) -> gunicorn with
    ``-c deploy/gunicorn.conf.py server.wsgi:app`` (LAGESBILD_WORKERS, access log to /dev/null)
    -> N client PROCESSES push batches of NEW reports for a fixed time -> reports/s, requests/s,
    p50/p99, non-200 count, row count == acknowledged reports; then cheap HTTP baselines, then
    the SQLite ceiling (the same rows via ``executemany``, 50 per committed transaction, WAL +
    synchronous=FULL) and a summary with PASS/MISS against the issue's targets.

Profile mode (``--profile``)
    the same fresh database, but the app runs in this process behind Flask's test client, so
    one batch can be broken down: plain wall time, hierarchical wall-clock timers around the
    server's own functions (no server code is changed; wrappers are installed at run time),
    write-lock hold time, and a cProfile of the same work grouped by library.

Run it with the project's venv: ``.venv/bin/python bench/ingest.py --help``.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import functools
import http.client
import json
import math
import multiprocessing as mp
import os
import platform
import pstats
import re
import resource
import secrets
import shlex
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from importlib.metadata import version as pkg_version
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # tests.support.pgserver, sync.merge, server (profile mode)

from sync.merge import DEVICE_FIELDS  # noqa: E402  (stdlib-only module)

# The targets. Do not loosen them here; a miss is reported as a miss.
TARGET_REPORTS_PER_S = 10_000
TARGET_CEILING_RATIO = 0.40
QUIET_BUSY = 0.10  # the machine counts as quiet below this share of busy CPU
OTHER_CORES_LIMIT = 0.15  # more foreign CPU than this during the load taints the figures

STOCKHOLM_WINTER = timezone(timedelta(hours=1))
PUSH_PATH = "/api/v1/sync/push"
NOT_FOUND_PATH = "/api/v1/_bench_404"  # routed to the PWA asset view, which 404s on "api/"
INSERT_COLUMNS = (
    "id",
    "org_id",
    "device_id",
    "created_at",
    "utc_offset_min",
    "category_code",
    "severity",
    "description",
    "lat",
    "lon",
    "accuracy_m",
    "place",
    "people_count",
    "photos",
    "clocks",
    "status",
    "received_at",
    "updated_at",
    "version",
    "change_seq",
)
# Cheap HTTP baselines: (mode, description, expected status).
BASELINES = (
    ("404", "GET unknown /api path -> 404 JSON (gunicorn + Flask, no DB, no auth)", 404),
    ("categories", "GET /api/v1/categories (bearer auth + 1 read)", 200),
    ("push0", "POST push with 0 reports (auth + push fixed cost, no row written)", 200),
    ("push1", "POST push with 1 new report (fixed cost + 1 row + commit)", 200),
)


class BenchError(RuntimeError):
    """The benchmark could not be set up or run."""


# --------------------------------------------------------------------------------------------
# Report payloads (same shape as tests/support/factories.py::report)
# --------------------------------------------------------------------------------------------


def report_template(now: datetime) -> tuple[str, str]:
    """Return the JSON text of one report split around its id (fresh ids are cheap to add)."""
    when = now.astimezone(STOCKHOLM_WINTER) - timedelta(minutes=10)
    body = {
        "id": "@ID@",
        "created_at": when.isoformat(timespec="seconds"),
        "category": "skadegorelse",
        "severity": 2,
        "description": "Klotter på busskuren.",
        "location": {"lat": 55.6398, "lon": 13.2083, "accuracy_m": 12.0},
        "place": "Busskuren Malmövägen",
        "people_count": None,
        "photos": [],
    }
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    before, after = text.split("@ID@")
    return before, after


def push_body(template: tuple[str, str], count: int) -> bytes:
    """Build a push body of `count` reports with fresh UUIDs."""
    before, after = template
    items = ",".join(before + str(uuid.uuid4()) + after for _ in range(count))
    return ('{"reports":[' + items + "]}").encode()


# --------------------------------------------------------------------------------------------
# Environment, CLI and database set-up
# --------------------------------------------------------------------------------------------


def _tool(name: str, module: str) -> list[str]:
    """Return the venv's console script `name`, or `python -m module` as a fallback."""
    script = Path(sys.executable).parent / name
    return [str(script)] if script.exists() else [sys.executable, "-m", module]


def server_env(url: str, data_dir: Path) -> dict[str, str]:
    """Return a clean environment for the CLI and gunicorn, bound to one database."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("LAGESBILD_", "FLASK_")) and k not in ("DATABASE_URL", "SECRET_KEY")
    }
    env.update(
        DATABASE_URL=url,
        LAGESBILD_DATA_DIR=str(data_dir),
        LAGESBILD_ENV="production",
        SECRET_KEY=secrets.token_hex(32),
    )
    return env


def lagesbild(env: dict[str, str], *args: str) -> Any:
    """Run the `lagesbild` CLI; return its JSON output when --json was given."""
    cmd = [*_tool("lagesbild", "server.cli"), *args]
    out = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    if out.returncode != 0:
        raise BenchError(f"{shlex.join(cmd)} failed:\n{out.stdout}\n{out.stderr}")
    return json.loads(out.stdout) if "--json" in args else None


@dataclass
class Database:
    """A migrated database with one organisation and N devices (enrolment codes unused)."""

    kind: str  # sqlite | postgres
    url: str  # SQLAlchemy URL (DATABASE_URL)
    env: dict[str, str]
    org_id: int
    org_slug: str
    devices: list[dict[str, Any]]  # CLI output of `device enrol --json` (code, device_id, …)
    sqlite_path: Path | None = None
    pg_name: str | None = None


def prepare_database(kind: str, url: str, data_dir: Path, n_devices: int, **extra: Any) -> Database:
    """Migrate, create one organisation and `n_devices` devices with the real CLI."""
    env = server_env(url, data_dir)
    lagesbild(env, "db", "upgrade")
    org = lagesbild(env, "org", "create", "Benchkommun", "--json")
    devices = [
        lagesbild(
            env, "device", "enrol", "--org", org["slug"], "--name", f"Bench {i + 1}", "--json"
        )
        for i in range(n_devices)
    ]
    return Database(kind, url, env, org["id"], org["slug"], devices, **extra)


def sqlite_copy(src: Path, dst: Path) -> None:
    """Copy a SQLite database consistently (backup API), keeping WAL mode."""
    with (
        contextlib.closing(sqlite3.connect(src)) as s,
        contextlib.closing(sqlite3.connect(dst)) as d,
    ):
        s.backup(d)
        d.execute("PRAGMA journal_mode = WAL")


def count_reports(db: Database, pg: Any | None) -> int:
    """Return the number of rows in the reports table."""
    if db.kind == "sqlite":
        assert db.sqlite_path is not None
        with contextlib.closing(sqlite3.connect(db.sqlite_path)) as conn:
            return int(conn.execute("SELECT count(*) FROM reports").fetchone()[0])
    import psycopg

    with psycopg.connect(pg.dsn(db.pg_name)) as conn:
        return int(conn.execute("SELECT count(*) FROM reports").fetchone()[0])


# --------------------------------------------------------------------------------------------
# gunicorn
# --------------------------------------------------------------------------------------------


def free_port() -> int:
    """Return a free TCP port on 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


LOCKSTATS_CONF = """\
# Generated by bench/ingest.py --lock-stats: deploy/gunicorn.conf.py unchanged, plus hooks
# that time the write lock inside each worker (SQLite: BEGIN IMMEDIATE; PostgreSQL: the
# organisation's change-counter row, SELECT ... FOR UPDATE) and dump the figures on exit.
import json as _json
import os as _os
import time as _time

_BASE = {base!r}
_OUT = {out!r}
exec(compile(open(_BASE).read(), _BASE, "exec"))


def post_worker_init(worker):
    from sqlalchemy import event

    from server.extensions import db

    with worker.wsgi.app_context():
        engine = db.engine
    stats = {{"waits": [], "holds": [], "commits": [], "reads_commit_s": 0.0}}
    worker._bench_lock_stats = stats
    state = {{}}

    def _locking(statement):
        return statement.startswith("BEGIN IMMEDIATE") or (
            "change_counters" in statement and "FOR UPDATE" in statement
        )

    @event.listens_for(engine, "before_cursor_execute")
    def _before(conn, cursor, statement, params, context, many):
        conn.info["bench_t"] = _time.perf_counter()

    @event.listens_for(engine, "after_cursor_execute")
    def _after(conn, cursor, statement, params, context, many):
        now = _time.perf_counter()
        if _locking(statement) and "locked_at" not in state:
            stats["waits"].append(now - conn.info["bench_t"])
            state["locked_at"] = now

    dialect = engine.dialect
    commit, rollback = dialect.do_commit, dialect.do_rollback

    def do_commit(dbapi_conn):
        t = _time.perf_counter()
        commit(dbapi_conn)
        done = _time.perf_counter()
        if "locked_at" in state:
            stats["holds"].append(done - state.pop("locked_at"))
            stats["commits"].append(done - t)
        else:
            stats["reads_commit_s"] += done - t

    def do_rollback(dbapi_conn):
        rollback(dbapi_conn)
        state.pop("locked_at", None)

    dialect.do_commit, dialect.do_rollback = do_commit, do_rollback


def worker_exit(server, worker):
    stats = getattr(worker, "_bench_lock_stats", None)
    if stats is not None:
        path = _os.path.join(_OUT, f"lockstats-{{_os.getpid()}}.json")
        with open(path, "w") as fh:
            _json.dump(stats, fh)
"""


def lock_stats_summary(folder: Path) -> dict[str, float] | None:
    """Merge the per-worker lock statistics written by the --lock-stats hooks."""
    waits: list[float] = []
    holds: list[float] = []
    commits: list[float] = []
    files = sorted(folder.glob("lockstats-*.json"))
    for path in files:
        data = json.loads(path.read_text())
        waits += data["waits"]
        holds += data["holds"]
        commits += data["commits"]
    if not waits or not holds:
        return None
    waits.sort()
    holds.sort()

    def pct(values: list[float], q: float) -> float:
        return values[max(1, math.ceil(q * len(values))) - 1] * 1000

    return {
        "workers": len(files),
        "transactions": len(holds),
        "wait_mean_ms": sum(waits) / len(waits) * 1000,
        "wait_p50_ms": pct(waits, 0.5),
        "wait_p99_ms": pct(waits, 0.99),
        "wait_total_s": sum(waits),
        "hold_mean_ms": sum(holds) / len(holds) * 1000,
        "hold_p99_ms": pct(holds, 0.99),
        "hold_total_s": sum(holds),
        "commit_mean_ms": sum(commits) / len(commits) * 1000,
    }


class Gunicorn:
    """gunicorn with the production config file, as `deploy/` runs it."""

    def __init__(
        self, db: Database, workers: int, log_path: Path, lock_stats_dir: Path | None = None
    ) -> None:
        self.port = free_port()
        self.log_path = log_path
        self.env = dict(
            db.env,
            LAGESBILD_WORKERS=str(workers),
            LAGESBILD_ACCESS_LOG="/dev/null",
            LAGESBILD_BIND=f"127.0.0.1:{self.port}",
            LAGESBILD_LOG_LEVEL="info",  # keeps "Autorestarting worker" lines countable
        )
        config = "deploy/gunicorn.conf.py"
        if lock_stats_dir is not None:
            wrapper = lock_stats_dir / "gunicorn-lockstats.conf.py"
            wrapper.write_text(
                LOCKSTATS_CONF.format(base=str(ROOT / config), out=str(lock_stats_dir))
            )
            config = str(wrapper)
        self.cmd = [*_tool("gunicorn", "gunicorn"), "-c", config, "server.wsgi:app"]
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start the master and wait until a worker answers."""
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                self.cmd,
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise BenchError(f"gunicorn exited early:\n{self.log_tail()}")
            try:
                status, _ = http_call(self.port, "GET", NOT_FOUND_PATH, None, {})
            except (OSError, http.client.HTTPException):
                time.sleep(0.1)
                continue
            if status == 404:
                return
        raise BenchError(f"gunicorn did not answer within 60 s:\n{self.log_tail()}")

    def stop(self) -> None:
        """Stop our gunicorn master (graceful), then its process group if it lingers."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=40)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)  # our own session, started above
            self.proc.wait(timeout=10)

    def log_text(self) -> str:
        """Return gunicorn's error log."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def log_tail(self, lines: int = 30) -> str:
        """Return the end of gunicorn's error log."""
        return "\n".join(self.log_text().splitlines()[-lines:])


def http_call(
    port: int, method: str, path: str, body: bytes | None, headers: dict[str, str]
) -> tuple[int, bytes]:
    """Do one request on a new connection."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path, body, headers)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def enrol(port: int, code: str) -> str:
    """Exchange an enrolment code for a device token over HTTP."""
    body = json.dumps({"code": code}).encode()
    status, data = http_call(
        port, "POST", "/api/v1/enrol", body, {"Content-Type": "application/json"}
    )
    if status != 201:
        raise BenchError(f"enrol failed: {status} {data[:300]!r}")
    return str(json.loads(data)["token"])


# --------------------------------------------------------------------------------------------
# Load clients (separate processes; they share the machine's cores with the server)
# --------------------------------------------------------------------------------------------


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

    sample_error: str = ""

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
        if not self.latencies:
            return math.nan
        rank = max(1, math.ceil(q * len(self.latencies)))
        return self.latencies[rank - 1] * 1000


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
    expected = 404 if mode == "404" else 200
    size = {"push": batch, "push0": 0, "push1": 1}.get(mode)
    method, path = ("POST", PUSH_PATH) if size is not None else ("GET", NOT_FOUND_PATH)
    if mode == "categories":
        path = "/api/v1/categories"
    headers = {"Authorization": f"Bearer {token}"}
    if method == "POST":
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
                conn.request(method, path, body, headers)
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
        if resp.status != expected:
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


def _cpu_times() -> tuple[float, float]:
    """Return (busy, total) jiffies of all CPUs from /proc/stat."""
    with open("/proc/stat") as fh:
        parts = [float(x) for x in fh.readline().split()[1:]]
    idle = parts[3] + (parts[4] if len(parts) > 4 else 0.0)
    total = sum(parts[:8])
    return total - idle, total


def _proc_cpu(pid: int) -> float:
    """Return CPU-seconds of a process plus those of its reaped children."""
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return sum(float(x) for x in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    """Return the live children of a process."""
    kids: list[int] = []
    with contextlib.suppress(OSError):
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as fh:
                kids.extend(int(x) for x in fh.read().split())
    return kids


def tree_cpu(pid: int) -> float:
    """Return CPU-seconds used by a process tree (live members and reaped children)."""
    try:
        total = _proc_cpu(pid)
    except (OSError, IndexError, ValueError):
        return 0.0
    return total + sum(tree_cpu(child) for child in _children(pid))


def background_busy(seconds: float = 2.0) -> float:
    """Return the fraction of all cores busy over `seconds` (before we start anything)."""
    busy0, total0 = _cpu_times()
    time.sleep(seconds)
    busy1, total1 = _cpu_times()
    return (busy1 - busy0) / (total1 - total0) if total1 > total0 else math.nan


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
    busy0, total0 = _cpu_times()
    trees0 = {label: tree_cpu(pid) for label, pid in watch.items()}
    results = [out.get(timeout=seconds + 300) for _ in procs]
    trees1 = {label: tree_cpu(pid) for label, pid in watch.items()}
    busy1, total1 = _cpu_times()
    for p in procs:
        p.join(timeout=10)
    phase = Phase(mode, clients, batch)
    phase.elapsed = max(r["end"] for r in results) - t0.value
    for r in results:
        phase.requests += r["requests"]
        phase.acked += r["acked"]
        phase.rejected += r["rejected"]
        phase.statuses.update(r["statuses"])
        phase.non_expected += r["non_expected"]
        phase.conn_errors += r["conn_errors"]
        phase.failed_requests += r["failed"]
        phase.latencies.extend(r["lat"])
        phase.client_cpu_s += r["cpu"]
        phase.sample_error = phase.sample_error or r["sample_error"]
    phase.latencies.sort()
    phase.cpu_busy = (busy1 - busy0) / (total1 - total0) if total1 > total0 else math.nan
    # The CPU window runs until the last result arrived; close enough to `elapsed`.
    phase.tree_cpu_s = {label: trees1[label] - trees0[label] for label in watch}
    return phase


# --------------------------------------------------------------------------------------------
# The ceiling: the same rows straight into the database, 50 per committed transaction
# --------------------------------------------------------------------------------------------


def _sqlite_dt(moment: datetime) -> str:
    """Render a UTC datetime as SQLAlchemy's SQLite DATETIME stores it."""
    return moment.astimezone(UTC).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")


def ceiling_rows(
    n: int, org_id: int, device_ids: list[int], first_seq: int, sqlite: bool
) -> list[tuple[Any, ...]]:
    """Return `n` report rows shaped as server/reports/service.py::_write_changes writes them."""
    now = datetime.now(UTC)
    created = (now.astimezone(STOCKHOLM_WINTER) - timedelta(minutes=10)).replace(microsecond=0)
    clock = created.astimezone(UTC).isoformat(timespec="microseconds")
    clocks = json.dumps({name: [clock, 0] for name in DEVICE_FIELDS})  # SQLAlchemy's JSON
    created_col: Any = _sqlite_dt(created) if sqlite else created.astimezone(UTC)
    now_col: Any = _sqlite_dt(now) if sqlite else now
    rows = []
    for i in range(n):
        rid = uuid.uuid4()
        rows.append(
            (
                rid.hex if sqlite else rid,  # sa.Uuid on SQLite: CHAR(32) hex
                org_id,
                device_ids[i % len(device_ids)],
                created_col,
                60,
                "skadegorelse",
                2,
                "Klotter på busskuren.",
                55.6398,
                13.2083,
                12.0,
                "Busskuren Malmövägen",
                None,
                "[]",
                clocks,
                "ny",
                now_col,
                now_col,
                1,
                first_seq + i + 1,
            )
        )
    return rows


@dataclass
class Ceiling:
    """Rows per second of bare executemany + commit per batch."""

    backend: str
    rows: int
    seconds: float
    note: str = ""

    @property
    def rows_per_s(self) -> float:
        """Rows per second."""
        return self.rows / self.seconds if self.seconds else 0.0


def sqlite_ceiling(path: Path, db: Database, n: int, batch: int) -> Ceiling:
    """Insert `n` rows into a copy of the migrated DB, one BEGIN IMMEDIATE/COMMIT per batch."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        # The server's connect-time pragmas (server/db.py::configure_sqlite).
        conn.execute("PRAGMA busy_timeout = 30000")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA foreign_keys = ON")
        seq = int(conn.execute("SELECT coalesce(max(change_seq), 0) FROM reports").fetchone()[0])
        ids = [d["device_id"] for d in db.devices]
        rows = ceiling_rows(n, db.org_id, ids, seq, sqlite=True)
        marks = ", ".join("?" for _ in INSERT_COLUMNS)
        sql = f"INSERT INTO reports ({', '.join(INSERT_COLUMNS)}) VALUES ({marks})"  # noqa: S608
        t = time.perf_counter()
        for i in range(0, n, batch):
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany(sql, rows[i : i + batch])
            conn.execute("COMMIT")
        elapsed = time.perf_counter() - t
        stored = int(conn.execute("SELECT count(*) FROM reports").fetchone()[0])
    finally:
        conn.close()
    if stored < n:
        raise BenchError(f"ceiling stored {stored} rows, expected at least {n}")
    return Ceiling("sqlite", n, elapsed, "WAL, synchronous=FULL, foreign_keys=ON")


def postgres_ceiling(pg: Any, name: str, db: Database, n: int, batch: int) -> Ceiling:
    """Insert `n` rows into a copy of the migrated PG database, one commit per batch."""
    import psycopg

    with psycopg.connect(pg.dsn(name)) as conn:
        seq = int(conn.execute("SELECT coalesce(max(change_seq), 0) FROM reports").fetchone()[0])
        conn.commit()
        ids = [d["device_id"] for d in db.devices]
        rows = ceiling_rows(n, db.org_id, ids, seq, sqlite=False)
        marks = ", ".join("%s::json" if c in ("photos", "clocks") else "%s" for c in INSERT_COLUMNS)
        sql = f"INSERT INTO reports ({', '.join(INSERT_COLUMNS)}) VALUES ({marks})"  # noqa: S608
        t = time.perf_counter()
        with conn.cursor() as cur:
            for i in range(0, n, batch):
                cur.executemany(sql, rows[i : i + batch])
                conn.commit()
        elapsed = time.perf_counter() - t
    return Ceiling("postgres", n, elapsed, "psycopg executemany, same throwaway server settings")


def shape_check(server_db: Path, ceiling_db: Path) -> str:
    """Compare typeof/length of every column of a server row and a ceiling row."""
    probe = ", ".join(f"typeof({c}) || ':' || coalesce(length({c}), '-')" for c in INSERT_COLUMNS)
    query = f"SELECT {probe} FROM reports ORDER BY change_seq DESC LIMIT 1"  # noqa: S608
    with contextlib.closing(sqlite3.connect(server_db)) as a:
        server_row = a.execute(query).fetchone()
    with contextlib.closing(sqlite3.connect(ceiling_db)) as b:
        ceiling_row = b.execute(query).fetchone()
    if server_row is None or ceiling_row is None:
        return "not checked (no rows)"
    diffs = [
        f"{c}: server {s} vs ceiling {t}"
        for c, s, t in zip(INSERT_COLUMNS, server_row, ceiling_row, strict=True)
        if s != t
    ]
    return "OK (every column has the same type and length)" if not diffs else "; ".join(diffs)


# --------------------------------------------------------------------------------------------
# Machine facts
# --------------------------------------------------------------------------------------------


def fsync_latency(folder: Path, n: int = 100) -> float:
    """Return the median fsync latency in ms of 4 KiB appends in `folder`."""
    path = folder / "fsync-probe"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    times = []
    try:
        for _ in range(n):
            os.write(fd, b"\0" * 4096)
            t = time.perf_counter()
            os.fsync(fd)
            times.append(time.perf_counter() - t)
    finally:
        os.close(fd)
        path.unlink()
    times.sort()
    return times[len(times) // 2] * 1000


def cpu_calibration() -> float:
    """Return ms for a fixed pure-Python workload (best of 5): how fast this CPU is right now."""

    def work() -> int:
        d = {str(i): i * 2 for i in range(100_000)}
        return len(json.loads(json.dumps(d)))

    best = math.inf
    for _ in range(5):
        t = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - t)
    return best * 1000


def filesystem_of(path: Path) -> str:
    """Return the filesystem type and device holding `path`."""
    best, found = "", "unknown"
    with contextlib.suppress(OSError), open("/proc/mounts") as fh:
        for line in fh:
            dev, mnt, fstype = line.split()[:3]
            if str(path).startswith(mnt) and len(mnt) > len(best):
                best, found = mnt, f"{fstype} on {dev} (mount {mnt})"
    return found


def cpu_model() -> str:
    """Return the CPU model name."""
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as fh:
        for line in fh:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def git_state() -> str:
    """Return HEAD and how many files differ from it."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=ROOT,
            capture_output=True,
            text=True,
        ).stdout.splitlines()
    except OSError:
        return "unknown"
    return f"{head or 'unknown'}" + (
        f" + uncommitted changes in {len(dirty)} files" if dirty else ""
    )


def machine_facts(tmp: Path) -> dict[str, str]:
    """Collect the facts that make figures comparable."""
    return {
        "nproc": f"{len(os.sched_getaffinity(0))} (os.cpu_count()={os.cpu_count()})",
        "cpu": cpu_model(),
        "kernel": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "sqlite": f"{sqlite3.sqlite_version} (library used by Python's sqlite3)",
        "packages": ", ".join(
            f"{p} {pkg_version(p)}"
            for p in ("gunicorn", "flask", "sqlalchemy", "marshmallow", "psycopg")
        ),
        "temp filesystem": filesystem_of(tmp),
        "fsync p50": f"{fsync_latency(tmp):.3f} ms (4 KiB append + fsync in the temp dir)",
        "cpu speed": f"{cpu_calibration():.0f} ms calibration at start (fixed pure-Python "
        "workload, best of 5; lower is faster)",
        "git": git_state(),
    }


# --------------------------------------------------------------------------------------------
# Load mode
# --------------------------------------------------------------------------------------------


def fmt_int(x: float) -> str:
    """Format a number with thousands separators."""
    return f"{x:,.0f}"


def print_phase(title: str, ph: Phase) -> None:
    """Print one phase's figures."""
    print(f"\n--- {title}")
    print(
        f"  {ph.requests} requests in {ph.elapsed:.2f} s: {ph.rps:,.1f} req/s"
        + (f", {ph.reports_per_s:,.1f} reports/s ({ph.acked} acknowledged)" if ph.batch else "")
    )
    print(f"  latency per request: p50 {ph.pct(0.50):.1f} ms, p99 {ph.pct(0.99):.1f} ms")
    print(
        f"  statuses {dict(ph.statuses)}; unexpected {ph.non_expected}; rejected reports "
        f"{ph.rejected}; connection errors {ph.conn_errors}; failed after retries "
        f"{ph.failed_requests}"
    )
    print(f"  CPU: {ph.cpu_line()}")
    if ph.sample_error:
        print(f"  first error: {ph.sample_error}")


def verdict(ok: bool) -> str:
    """Return PASS or MISS."""
    return "PASS" if ok else "MISS"


def load_mode(args: argparse.Namespace, tmp: Path, facts: dict[str, str]) -> int:
    """Run the HTTP benchmark; return the exit code (1 on a correctness failure)."""
    pg = None
    gun: Gunicorn | None = None
    try:
        t_setup = time.monotonic()
        if args.db == "postgres":
            pg = start_postgres()
            pg.create_database("lb_bench")
            db = prepare_database(
                "postgres", pg.url("lb_bench"), tmp / "data", args.clients, pg_name="lb_bench"
            )
            # The same migrated database, idle, as the Postgres ceiling's target.
            pg.create_database("lb_ceiling", template="lb_bench")
            facts["postgres"] = pg_version(pg) + " (throwaway: fsync=off, synchronous_commit=off)"
            # The ceiling is SQLite: build a migrated SQLite database for it too.
            ceil_src = tmp / "ceiling-src.sqlite3"
            ceil_db = prepare_database(
                "sqlite",
                f"sqlite:///{ceil_src}",
                tmp / "data-ceiling",
                args.clients,
                sqlite_path=ceil_src,
            )
        else:
            path = tmp / "lagesbild.sqlite3"
            db = prepare_database(
                "sqlite", f"sqlite:///{path}", tmp / "data", args.clients, sqlite_path=path
            )
            ceil_db = db
        ceil_path = tmp / "ceiling.sqlite3"
        assert ceil_db.sqlite_path is not None
        sqlite_copy(ceil_db.sqlite_path, ceil_path)  # fresh: migrated, org + devices, no reports
        print(f"set-up (migrate, org, {args.clients} devices): {time.monotonic() - t_setup:.1f} s")

        lock_dir = tmp / "lockstats" if args.lock_stats else None
        if lock_dir is not None:
            lock_dir.mkdir()
        gun = Gunicorn(db, args.workers, tmp / "gunicorn.log", lock_dir)
        gun.start()
        tokens = [enrol(gun.port, d["code"]) for d in db.devices]
        print(f"gunicorn up on port {gun.port} ({args.workers} workers); {len(tokens)} enrolled")

        assert gun.proc is not None
        watch = {"gunicorn": gun.proc.pid}
        if pg is not None:
            watch["postgres"] = int((pg.data_dir / "postmaster.pid").read_text().split()[0])
        before = count_reports(db, pg)
        main = run_phase("push", gun.port, tokens, args.clients, args.batch, args.seconds, watch)
        rows = count_reports(db, pg) - before
        print_phase(
            f"LOAD: {args.clients} clients x batches of {args.batch} new reports, "
            f"{args.seconds:g} s",
            main,
        )
        print(f"  rows added to reports: {rows}; acknowledged reports: {main.acked}")

        baselines: list[tuple[str, str, Phase]] = []
        pg_stats = pg_table_stats(pg, db) if pg is not None else ""
        if pg_stats:
            print(f"  postgres reports table: {pg_stats}")
        locks = None
        if lock_dir is not None:
            # Workers write their figures when they exit; stop now so they cover the load only.
            gun.stop()
            locks = lock_stats_summary(lock_dir)
            print_locks(locks, main)
        elif args.baseline_seconds > 0:
            for mode, desc, _expected in BASELINES:
                ph = run_phase(
                    mode, gun.port, tokens, args.clients, 0, args.baseline_seconds, watch
                )
                baselines.append((mode, desc, ph))
                print_phase(f"BASELINE {mode}: {desc}", ph)
        gun.stop()
        glog = gun.log_text()
        restarts = glog.count("Autorestarting worker")
        tracebacks = glog.count("Traceback")

        print(f"\n--- CEILING: {main.acked} rows, executemany {args.batch} per transaction")
        n = max(main.acked, args.batch)
        sq = sqlite_ceiling(ceil_path, ceil_db, n, args.batch)
        print(
            f"  SQLite: {sq.rows_per_s:,.0f} rows/s "
            f"({sq.rows} rows in {sq.seconds:.2f} s; {sq.note})"
        )
        shape = (
            shape_check(db.sqlite_path, ceil_path)
            if db.kind == "sqlite"
            else "n/a (server on Postgres)"
        )
        print(f"  row shape vs a server-written row: {shape}")
        pgc = None
        if pg is not None:
            pgc = postgres_ceiling(pg, "lb_ceiling", db, n, args.batch)
            print(
                f"  Postgres: {pgc.rows_per_s:,.0f} rows/s ({pgc.rows} rows in {pgc.seconds:.2f} s)"
            )
    finally:
        if gun is not None:
            gun.stop()
        if pg is not None:
            pg.stop()

    ratio = main.reports_per_s / sq.rows_per_s if sq.rows_per_s else 0.0
    correct = (
        main.non_expected == 0
        and main.failed_requests == 0
        and main.rejected == 0
        and rows == main.acked
        and main.acked > 0
    )
    print("\n" + "=" * 78)
    print("SUMMARY: ingest benchmark (POST /api/v1/sync/push)")
    print("=" * 78)
    print(f"command       : {shlex.join(sys.orig_argv)}")
    print(f"cwd           : {Path.cwd()}")
    for key, value in facts.items():
        print(f"{key:<14}: {value}")
    print(
        f"server        : gunicorn -c deploy/gunicorn.conf.py server.wsgi:app, {args.workers} sync "
        f"workers, access log /dev/null, database {db.kind}"
        + (" (+ --lock-stats hooks via a wrapper config)" if args.lock_stats else "")
    )
    print(
        f"load          : {args.clients} client processes (http.client; the sync worker closes "
        f"each connection) on the SAME {os.cpu_count()} cores as the server and the database"
    )
    print(f"window        : {main.elapsed:.2f} s of load, batches of {args.batch} new reports")
    print(f"reports/s     : {main.reports_per_s:,.1f}")
    print(f"requests/s    : {main.rps:,.1f}")
    print(f"latency       : p50 {main.pct(0.5):.1f} ms, p99 {main.pct(0.99):.1f} ms per request")
    print(
        f"non-200       : {main.non_expected} (connection errors {main.conn_errors}, "
        f"failed {main.failed_requests}, rejected reports {main.rejected})"
    )
    print(
        f"row check     : {rows} rows == {main.acked} acknowledged -> "
        f"{'OK' if rows == main.acked else 'MISMATCH'}"
    )
    print(f"CPU (cores)   : {main.cpu_line()}")
    if main.other_cores > OTHER_CORES_LIMIT:
        print(
            f"  ** CONTAMINATED: other processes used {main.other_cores:.2f} cores during the "
            "load; throughput figures are pessimistic, see the projection below **"
        )
    server_cpu = main.tree_cpu_s.get("gunicorn", 0.0)
    ncpu = os.cpu_count() or 1
    projection = math.nan
    if server_cpu and main.requests:
        all_cpu = sum(main.tree_cpu_s.values()) + main.client_cpu_s
        projection = ncpu / (all_cpu / main.requests) * args.batch
        print(
            f"efficiency    : {main.acked / server_cpu:,.0f} reports per gunicorn CPU-second "
            f"= {server_cpu / main.requests * 1000:.1f} ms of gunicorn CPU per request; "
            f"{all_cpu / main.requests * 1000:.1f} ms incl. database and clients"
        )
        print(
            f"projection    : <= {projection:,.0f} reports/s if all {ncpu} cores ran only this "
            "benchmark and nothing ever waited (CPU per request as measured; an upper bound, "
            "not a measurement)"
        )
    print(
        f"gunicorn log  : {restarts} worker restarts (max_requests; whole run incl. baselines), "
        f"{tracebacks} tracebacks"
    )
    if pg_stats:
        print(f"pg reports    : {pg_stats}")
    if locks is not None:
        lock_name = "write lock" if db.kind == "sqlite" else "counter lock"
        print(
            f"{lock_name:<14}: wait p50 {locks['wait_p50_ms']:.1f} / mean "
            f"{locks['wait_mean_ms']:.1f} / p99 {locks['wait_p99_ms']:.1f} ms, held mean "
            f"{locks['hold_mean_ms']:.1f} ms (COMMIT {locks['commit_mean_ms']:.2f} ms); "
            f"workers spent {locks['wait_total_s'] / (args.workers * main.elapsed) * 100:.0f} % "
            f"of their time waiting for it (--lock-stats hooks active)"
        )
    print(f"ceiling SQLite: {sq.rows_per_s:,.0f} rows/s; server/ceiling = {ratio * 100:.1f} %")
    print(f"ceiling rows  : {shape}")
    if pgc is not None:
        print(
            f"ceiling PG    : {pgc.rows_per_s:,.0f} rows/s; server/PG ceiling = "
            f"{main.reports_per_s / pgc.rows_per_s * 100:.1f} %"
        )
    for mode, _desc, ph in baselines:
        extra = f", {ph.reports_per_s:,.0f} reports/s" if mode == "push1" else ""
        print(
            f"baseline {mode:<5}: {ph.rps:,.0f} req/s{extra}, p50 {ph.pct(0.5):.1f} ms "
            f"(unexpected statuses {ph.non_expected})"
        )
    scope = "" if db.kind == "sqlite" else "  [the issue states these targets for SQLite]"
    print(
        f"TARGET reports/s >= {TARGET_REPORTS_PER_S:,}: "
        f"{verdict(main.reports_per_s >= TARGET_REPORTS_PER_S)} ({fmt_int(main.reports_per_s)})"
        + scope
    )
    print(
        f"TARGET server/ceiling >= {TARGET_CEILING_RATIO:.0%}: "
        f"{verdict(ratio >= TARGET_CEILING_RATIO)} ({ratio * 100:.1f} %)" + scope
    )
    print(f"CORRECTNESS (0 non-200, rows == acknowledged): {'OK' if correct else 'FAILED'}")
    print("=" * 78)
    if args.json_out:
        summary = {
            "db": db.kind,
            "args": vars(args),
            "facts": facts,
            "reports_per_s": main.reports_per_s,
            "requests_per_s": main.rps,
            "p50_ms": main.pct(0.5),
            "p99_ms": main.pct(0.99),
            "non_200": main.non_expected,
            "rows": rows,
            "acked": main.acked,
            "cpu_busy": main.cpu_busy,
            "client_cores": main.client_cpu_s / main.elapsed,
            "tree_cores": {k: v / main.elapsed for k, v in main.tree_cpu_s.items()},
            "ceiling_sqlite_rows_per_s": sq.rows_per_s,
            "ratio": ratio,
            "ceiling_pg_rows_per_s": pgc.rows_per_s if pgc else None,
            "baselines": {m: {"rps": p.rps, "p50_ms": p.pct(0.5)} for m, _d, p in baselines},
            "worker_restarts": restarts,
            "other_cores": main.other_cores,
            "lock_stats": locks,
            "pg_reports_stats": pg_stats,
            "projection_reports_per_s": projection,
        }
        Path(args.json_out).write_text(json.dumps(summary, indent=2, default=str))
    return 0 if correct else 1


def print_locks(locks: dict[str, float] | None, main: Phase) -> None:
    """Print the write-lock figures measured inside the workers."""
    if locks is None:
        print("  lock stats: none recorded")
        return
    print(
        f"  write lock, i.e. SQLite BEGIN IMMEDIATE or the org's counter row "
        f"({locks['workers']:.0f} worker processes, {locks['transactions']:.0f} "
        f"write transactions): wait for it p50 {locks['wait_p50_ms']:.2f} ms, mean "
        f"{locks['wait_mean_ms']:.2f} ms, p99 {locks['wait_p99_ms']:.2f} ms; held mean "
        f"{locks['hold_mean_ms']:.2f} ms, p99 {locks['hold_p99_ms']:.2f} ms (COMMIT "
        f"{locks['commit_mean_ms']:.2f} ms)"
    )
    print(
        f"  lock busy {locks['hold_total_s'] / main.elapsed * 100:.0f} % of the window; "
        f"waiting for it: {locks['wait_total_s']:.1f} worker-seconds in {main.elapsed:.1f} s"
    )


def pg_table_stats(pg: Any, db: Database) -> str:
    """Describe how the reports table was scanned (exposes cached generic plans)."""
    import psycopg

    query = (
        "SELECT seq_scan, seq_tup_read, idx_scan, n_live_tup, last_autoanalyze, last_analyze "
        "FROM pg_stat_user_tables WHERE relname = 'reports'"
    )
    time.sleep(0.6)  # statistics are flushed by backends at most every 0.5 s (PG 15)
    with psycopg.connect(pg.dsn(db.pg_name)) as conn:
        row = conn.execute(query).fetchone()
    if row is None:
        return ""
    seq, seq_read, idx, live, auto, manual = row
    analyzed = auto or manual
    return (
        f"{seq} seq scans reading {seq_read:,} rows, {idx} index scans, {live} live rows, "
        f"analyzed: {analyzed.isoformat(timespec='seconds') if analyzed else 'never'}"
    )


def start_postgres() -> Any:
    """Start the throwaway PostgreSQL server of the test suite."""
    from tests.support.pgserver import PostgresServer, find_pg_bin

    bin_dir = find_pg_bin()
    if bin_dir is None:
        raise BenchError("no initdb/pg_ctl found (set LAGESBILD_PG_BIN)")
    return PostgresServer(bin_dir).start()


def pg_version(pg: Any) -> str:
    """Return the server's version string."""
    import psycopg

    with psycopg.connect(pg.dsn()) as conn:
        return "PostgreSQL " + str(conn.execute("SHOW server_version").fetchone()[0])


# --------------------------------------------------------------------------------------------
# Profile mode: in-process app + test client, timers and cProfile
# --------------------------------------------------------------------------------------------


class Timers:
    """Hierarchical wall-clock timers installed around functions at run time."""

    def __init__(self) -> None:
        self.stack: list[str] = []
        self.total: dict[tuple[str, ...], float] = defaultdict(float)
        self.calls: dict[tuple[str, ...], int] = defaultdict(int)
        self._undo: list[Callable[[], None]] = []
        self.lock_spans: list[float] = []
        self._lock_start: float | None = None

    def record(self, key: tuple[str, ...], seconds: float) -> None:
        """Add one timed call."""
        self.total[key] += seconds
        self.calls[key] += 1

    @contextlib.contextmanager
    def span(self, label: str) -> Iterator[None]:
        """Time a block as a child of the current stack."""
        self.stack.append(label)
        key = tuple(self.stack)
        t = time.perf_counter()
        try:
            yield
        finally:
            self.record(key, time.perf_counter() - t)
            self.stack.pop()

    def wrap(self, owner: Any, name: str, label: str) -> None:
        """Replace owner.name by a timed wrapper (undone by restore())."""
        original = getattr(owner, name)
        own = name in vars(owner)
        saved = vars(owner).get(name)

        stack, total, calls, perf = self.stack, self.total, self.calls, time.perf_counter

        @functools.wraps(original)
        def timed(*a: Any, **kw: Any) -> Any:
            # Inlined (no context manager): these wrappers sit on per-report calls.
            stack.append(label)
            key = tuple(stack)
            t = perf()
            try:
                return original(*a, **kw)
            finally:
                total[key] += perf() - t
                calls[key] += 1
                stack.pop()

        setattr(owner, name, timed)

        def undo() -> None:
            if own:
                setattr(owner, name, saved)
            else:
                delattr(owner, name)

        self._undo.append(undo)

    def restore(self) -> None:
        """Remove every wrapper."""
        while self._undo:
            self._undo.pop()()


_SQL_RE = re.compile(r"^\s*(\w+)(?:.*?\b(?:FROM|INTO|UPDATE)\s+\"?(\w+))?", re.I | re.S)


def sql_label(statement: str, many: bool) -> str:
    """Return a short label for a SQL statement."""
    m = _SQL_RE.match(statement)
    verb, table = (m.group(1).upper(), m.group(2)) if m else ("SQL", None)
    if verb == "UPDATE":
        table = statement.split()[1].strip('"')
    label = f"driver: {verb}" + (f" {table}" if table else "")
    if verb == "BEGIN":
        label = f"driver: {statement.strip()}"
    return label + (" (executemany)" if many else "")


def install_timers(app: Any, timers: Timers) -> None:
    """Put timers around the server's own push path (nothing in server/ is edited)."""
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    import server.devices.auth as auth
    import server.reports.service as service
    import server.reports.views as views
    from server.extensions import db
    from server.reports.schemas import PushOut, ReportIn
    from sync.merge import Edit

    timers.wrap(app, "wsgi_app", "WSGI app (Flask request handling)")
    view = app.view_functions["sync.push"]
    app.view_functions["sync.push"] = _timed_callable(timers, view, "view: @device_required + push")
    timers._undo.append(lambda: app.view_functions.__setitem__("sync.push", view))
    timers.wrap(auth, "device_for_token", "auth: device_for_token (token SELECT)")
    timers.wrap(auth, "touch", "auth: touch (last_seen)")
    timers.wrap(views, "json_body", "request JSON parse (get_json)")
    timers.wrap(views, "push_reports", "service.push")
    timers.wrap(service, "active_category_codes", "active_category_codes")
    timers.wrap(service, "_parse", "_parse (validate 50 reports)")
    timers.wrap(ReportIn, "load", "marshmallow ReportIn.load")
    timers.wrap(service, "values_from_input", "values_from_input")
    timers.wrap(Edit, "__post_init__", "Edit.__post_init__ (deepcopy, UTC)")
    timers.wrap(service, "_merge_valid", "_merge_valid")
    timers.wrap(service, "_lock_counter", "_lock_counter")
    timers.wrap(service, "apply_batch", "sync.merge.apply_batch")
    timers.wrap(service, "_write_changes", "_write_changes")
    timers.wrap(service, "columns_from_values", "columns_from_values")
    timers.wrap(service, "values_of", "values_of (deepcopy)")
    timers.wrap(service, "clocks_to_json", "clocks_to_json")
    timers.wrap(service, "_attach_versions_and_missing", "_attach_versions_and_missing")
    timers.wrap(service, "_result_json", "_result_json")
    timers.wrap(PushOut, "dump", "marshmallow PushOut.dump")
    timers.wrap(app.json, "response", "Flask JSON response (json.dumps)")
    timers.wrap(Session, "_execute_internal", "ORM execute")
    timers.wrap(Session, "flush", "ORM flush")
    timers.wrap(Session, "commit", "session.commit")
    with app.app_context():
        engine = db.engine
    dialect = engine.dialect
    timers.wrap(dialect, "do_ping", "driver: pool_pre_ping")

    def before(
        conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool
    ) -> None:
        label = sql_label(statement, many)
        # SQLite: BEGIN IMMEDIATE takes the database write lock. Postgres: the org's change
        # counter row lock (SELECT ... FOR UPDATE) serialises the org's writers.
        locking = label == "driver: BEGIN IMMEDIATE" or (
            "change_counters" in statement and "FOR UPDATE" in statement
        )
        if locking and timers._lock_start is None:
            timers._lock_start = time.perf_counter()
        timers.stack.append(label)
        conn.info["bench_t"] = time.perf_counter()

    def after(
        conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool
    ) -> None:
        timers.record(tuple(timers.stack), time.perf_counter() - conn.info.pop("bench_t"))
        timers.stack.pop()

    original_commit = dialect.do_commit

    def do_commit(dbapi_conn: Any) -> None:
        # COMMIT (with its fsync on SQLite) ends the write lock taken by BEGIN IMMEDIATE.
        with timers.span("driver: COMMIT"):
            original_commit(dbapi_conn)
        if timers._lock_start is not None:
            timers.lock_spans.append(time.perf_counter() - timers._lock_start)
            timers._lock_start = None

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    dialect.do_commit = do_commit

    def undo_events() -> None:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)
        del dialect.do_commit

    timers._undo.insert(0, undo_events)


def _timed_callable(timers: Timers, fn: Callable[..., Any], label: str) -> Callable[..., Any]:
    """Return fn wrapped in a timer span."""

    @functools.wraps(fn)
    def timed(*a: Any, **kw: Any) -> Any:
        with timers.span(label):
            return fn(*a, **kw)

    return timed


def print_tree(timers: Timers, batches: int, root_total: float) -> None:
    """Print inclusive ms per batch as a tree, with the unattributed rest of each node."""
    children: dict[tuple[str, ...], list[tuple[str, ...]]] = defaultdict(list)
    for key in timers.total:
        children[key[:-1]].append(key)

    def show(key: tuple[str, ...], depth: int) -> None:
        ms = timers.total[key] / batches * 1000
        share = timers.total[key] / root_total * 100
        calls = timers.calls[key] / batches
        print(
            f"  {'  ' * depth}{key[-1]:<{58 - 2 * depth}} {ms:8.2f} ms {share:5.1f} %  x{calls:g}"
        )
        kids = children.get(key, [])
        for kid in kids:
            show(kid, depth + 1)
        if kids:
            rest = timers.total[key] - sum(timers.total[k] for k in kids)
            if rest / batches * 1000 >= 0.05:
                print(
                    f"  {'  ' * (depth + 1)}{'(rest: own code / framework)':<{56 - 2 * depth}} "
                    f"{rest / batches * 1000:8.2f} ms {rest / root_total * 100:5.1f} %"
                )

    for key in children[()]:
        show(key, 0)


def profile_bucket(filename: str, func: str) -> str:
    """Group a cProfile entry by library."""
    if filename == "~":
        name = func.lower()
        for lib in ("sqlite3", "psycopg", "json", "uuid", "datetime", "posix", "select"):
            if lib in name:
                return f"C builtins: {lib}"
        return "C builtins: other"
    m = re.search(r"site-packages/([A-Za-z0-9_]+)", filename)
    if m:
        return m.group(1)
    p = Path(filename)
    try:
        rel = p.resolve().relative_to(ROOT)
        return f"project: {rel.parts[0]}/{rel.parts[1] if len(rel.parts) > 2 else ''}".rstrip("/")
    except ValueError:
        pass
    m = re.search(r"python3\.\d+/([A-Za-z0-9_]+)", filename)
    return f"stdlib: {m.group(1)}" if m else filename


def profile_mode(args: argparse.Namespace, tmp: Path, facts: dict[str, str]) -> int:
    """Break the cost of one batch down in-process (no HTTP server, no concurrency)."""
    pg = None
    try:
        if args.db == "postgres":
            pg = start_postgres()
            pg.create_database("lb_bench")
            db = prepare_database(
                "postgres", pg.url("lb_bench"), tmp / "data", 1, pg_name="lb_bench"
            )
            facts["postgres"] = pg_version(pg) + " (throwaway: fsync=off, synchronous_commit=off)"
        else:
            path = tmp / "lagesbild.sqlite3"
            db = prepare_database("sqlite", f"sqlite:///{path}", tmp / "data", 1, sqlite_path=path)
        code = _profile(args, db, tmp, facts)
        if pg is not None:
            print(f"postgres reports table: {pg_table_stats(pg, db)}")
        return code
    finally:
        if pg is not None:
            pg.stop()


def _profile(args: argparse.Namespace, db: Database, tmp: Path, facts: dict[str, str]) -> int:
    from server.app import create_app
    from server.extensions import db as sa_db

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": db.url,
            "SECRET_KEY": db.env["SECRET_KEY"],
            "DATA_DIR": str(tmp / "data"),
            "LAGESBILD_ENV": "production",
        }
    )
    client = app.test_client()
    resp = client.post("/api/v1/enrol", json={"code": db.devices[0]["code"]})
    assert resp.status_code == 201, resp.data
    headers = {"Authorization": f"Bearer {resp.json['token']}"}
    template = report_template(datetime.now(UTC))
    n = args.profile_batches

    def run(count: int, size: int) -> list[float]:
        bodies = [push_body(template, size) for _ in range(count)]
        times = []
        for body in bodies:
            t = time.perf_counter()
            r = client.post(PUSH_PATH, data=body, headers=headers, content_type="application/json")
            times.append(time.perf_counter() - t)
            if r.status_code != 200:
                raise BenchError(f"push failed: {r.status_code} {r.data[:300]!r}")
            if size and any(x["status"] != "created" for x in r.json["results"]):
                raise BenchError(f"unexpected results: {r.data[:300]!r}")
        return times

    def ms(times: list[float]) -> tuple[float, float]:
        s = sorted(times)
        return sum(s) / len(s) * 1000, s[len(s) // 2] * 1000

    run(20, args.batch)  # warm-up
    plain = run(n, args.batch)
    one = run(n, 1)
    empty = run(n, 0)
    mean50, p50_50 = ms(plain)
    mean1, _ = ms(one)
    mean0, _ = ms(empty)
    per_report = (mean50 - mean1) / (args.batch - 1) if args.batch > 1 else math.nan

    timers = Timers()
    install_timers(app, timers)
    try:
        t = time.perf_counter()
        for body in [push_body(template, args.batch) for _ in range(n)]:
            with timers.span("test_client.post (whole request)"):
                client.post(PUSH_PATH, data=body, headers=headers, content_type="application/json")
        timed_total = time.perf_counter() - t
    finally:
        timers.restore()

    prof = cProfile.Profile()
    bodies = [push_body(template, args.batch) for _ in range(n)]
    prof.enable()
    for body in bodies:
        client.post(PUSH_PATH, data=body, headers=headers, content_type="application/json")
    prof.disable()
    stats = pstats.Stats(prof)
    prof_total = sum(v[2] for v in stats.stats.values())  # type: ignore[attr-defined]

    with app.app_context():
        rows = sa_db.session.execute(sa_db.text("SELECT count(*) FROM reports")).scalar_one()
        sa_db.session.remove()
        sa_db.engine.dispose()

    print("\n" + "=" * 78)
    print(f"PROFILE: in-process push of batches of {args.batch} new reports ({db.kind})")
    print("=" * 78)
    print(f"command       : {shlex.join(sys.orig_argv)}")
    for key, value in facts.items():
        print(f"{key:<14}: {value}")
    print(
        "method        : create_app() + Flask test client, one thread, no gunicorn/HTTP/"
        f"concurrency; {n} batches per measurement after 20 warm-up batches"
    )
    print(f"\nplain wall time per request ({n} requests each):")
    print(
        f"  batch of {args.batch:<3}: mean {mean50:6.2f} ms, p50 {p50_50:6.2f} ms"
        f"  -> one process could do {args.batch / mean50 * 1000:,.0f} reports/s"
    )
    print(f"  batch of 1  : mean {mean1:6.2f} ms")
    print(f"  batch of 0  : mean {mean0:6.2f} ms (auth + fixed push cost)")
    print(
        f"  => fixed cost ~{mean1 - per_report:.2f} ms per request + ~{per_report:.3f} ms per "
        f"report (marginal, from batch 1 vs {args.batch})"
    )
    root = timers.total[("test_client.post (whole request)",)]
    print(
        f"\nwall-clock breakdown per batch of {args.batch} (timers; inclusive ms, % of the whole "
        f"request, calls per batch; timer overhead: {timed_total / n * 1000 - mean50:+.2f} ms "
        f"per batch vs plain):"
    )
    print_tree(timers, n, root)
    if timers.lock_spans:
        spans = timers.lock_spans
        per_batch = sum(spans) / n * 1000
        what = (
            "SQLite write lock (BEGIN IMMEDIATE -> COMMIT done)"
            if db.kind == "sqlite"
            else "org change-counter row lock (SELECT ... FOR UPDATE -> COMMIT done)"
        )
        print(
            f"\n{what}: {len(spans) / n:g} "
            f"transactions per request, held {per_batch:.2f} ms per request = "
            f"{per_batch / (root / n * 1000) * 100:.0f} % of the request's wall time; longest "
            f"{max(spans) * 1000:.2f} ms"
        )
    print(
        f"\ncProfile of the same work (profiler inflates Python-heavy code; use shares): "
        f"{prof_total / n * 1000:.1f} ms per batch under the profiler"
    )
    buckets: dict[str, float] = defaultdict(float)
    for (filename, _line, func), (_cc, _nc, tt, _ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        buckets[profile_bucket(filename, func)] += tt
    print("  own time by library:")
    for name, tt in sorted(buckets.items(), key=lambda kv: -kv[1])[:18]:
        print(f"    {name:<40} {tt / n * 1000:7.2f} ms  {tt / prof_total * 100:5.1f} %")
    print("  top functions by own time:")
    top = sorted(stats.stats.items(), key=lambda kv: -kv[1][2])[: args.profile_top]  # type: ignore[attr-defined]
    for (filename, line, func), (_cc, nc, tt, ct, _callers) in top:
        where = f"{profile_bucket(filename, func)}:{func}" + (f":{line}" if line else "")
        print(
            f"    {tt / n * 1000:6.2f} ms own {ct / n * 1000:7.2f} ms cum  "
            f"{nc / n:7.1f} calls  {where[:90]}"
        )
    print("  top functions by cumulative time (project code):")
    cum = [
        kv
        for kv in stats.stats.items()  # type: ignore[attr-defined]
        if str(ROOT) in kv[0][0] and "/.venv/" not in kv[0][0]
    ]
    for (filename, line, func), (_cc, nc, _tt, ct, _callers) in sorted(
        cum, key=lambda kv: -kv[1][3]
    )[: args.profile_top]:
        rel = Path(filename).relative_to(ROOT)
        print(f"    {ct / n * 1000:7.2f} ms cum  {nc / n:7.1f} calls  {rel}:{line} {func}")
    expected = 20 * args.batch + 3 * n * args.batch + n
    print(f"\nrows written: {rows} (expected {expected})")
    return 0 if rows == expected else 1


# --------------------------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the command line."""
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    p.add_argument("--seconds", type=float, default=20.0, help="load duration (default 20)")
    p.add_argument("--clients", type=int, default=4, help="client processes = devices (default 4)")
    p.add_argument("--batch", type=int, default=50, help="reports per push (default 50)")
    p.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    p.add_argument(
        "--baseline-seconds",
        type=float,
        default=5.0,
        help="seconds per HTTP baseline (404, categories, push0, push1); 0 skips them",
    )
    p.add_argument(
        "--wait-quiet",
        type=float,
        default=0.0,
        help="wait up to this many seconds for the machine to be idle (< 10 %% busy) first",
    )
    p.add_argument(
        "--lock-stats",
        action="store_true",
        help="diagnostic: time the write lock inside the workers (wraps the gunicorn config "
        "with hooks; skips the baselines)",
    )
    p.add_argument("--json-out", help="also write the summary as JSON to this file")
    p.add_argument("--keep", action="store_true", help="keep the temp directory")
    p.add_argument("--profile", action="store_true", help="in-process breakdown per batch instead")
    p.add_argument("--profile-batches", type=int, default=200, help="batches per profile step")
    p.add_argument("--profile-top", type=int, default=25, help="functions listed by the profile")
    args = p.parse_args(argv)
    if args.clients < 1 or args.batch < 1 or args.workers < 1 or args.seconds <= 0:
        p.error("--clients, --batch, --workers and --seconds must be positive")
    return args


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark."""
    args = parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="lagesbild-bench-"))
    try:
        busy = background_busy()
        waited = 0.0
        while busy > QUIET_BUSY and waited < args.wait_quiet:
            print(f"machine is {busy * 100:.0f} % busy before the start; waiting for quiet ...")
            time.sleep(8)
            waited += 10
            busy = background_busy()
        facts = machine_facts(tmp)
        facts["busy before"] = f"{busy * 100:.0f} % of all cores over 2 s before the start" + (
            "  ** NOT QUIET: other processes share the machine; figures are pessimistic **"
            if busy > QUIET_BUSY
            else ""
        )
        run = profile_mode if args.profile else load_mode
        code = run(args, tmp, facts)
        print(f"cpu speed at the end: {cpu_calibration():.0f} ms calibration (see 'cpu speed')")
        return code
    except BenchError as exc:
        print(f"benchmark error: {exc}", file=sys.stderr)
        return 2
    finally:
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
