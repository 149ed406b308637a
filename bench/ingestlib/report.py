"""Printing the load mode's figures: phases, lock statistics, the summary block and JSON."""

from __future__ import annotations

import argparse
import json
import math
import os
import shlex
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.ingestlib.ceiling import Ceiling
from bench.ingestlib.clients import Phase
from bench.ingestlib.common import (
    OTHER_CORES_LIMIT,
    TARGET_CEILING_RATIO,
    TARGET_CEILING_RATIO_13,
    TARGET_P99_MS,
    TARGET_REPORTS_PER_S,
)
from bench.ingestlib.delay import POLL, Grouping

RULE = "=" * 78


@dataclass
class LoadResult:
    """Everything the load mode measured."""

    args: argparse.Namespace
    kind: str  # the server's database: sqlite | postgres
    main: Phase  # the load
    rows: int  # rows added to reports during the load
    baselines: list[tuple[str, Phase]] = field(default_factory=list)
    pg_stats: str = ""
    locks: dict[str, float] | None = None
    restarts: int = 0
    tracebacks: int = 0
    ceiling: Ceiling = field(default_factory=lambda: Ceiling(0, 0.0))  # SQLite
    shape: str = ""
    pg_ceiling: Ceiling | None = None
    grouping: Grouping = field(default_factory=Grouping)

    @property
    def ratio(self) -> float:
        """Server reports/s as a share of the SQLite ceiling's rows/s."""
        ceiling = self.ceiling.rows_per_s
        return self.main.reports_per_s / ceiling if ceiling else 0.0

    @property
    def correct(self) -> bool:
        """0 non-200, nothing failed or rejected, rows == acknowledged, all in incidents."""
        m = self.main
        return (
            m.non_expected == 0
            and m.failed_requests == 0
            and m.rejected == 0
            and self.rows == m.acked
            and m.acked > 0
            and self.grouped
        )

    @property
    def grouped(self) -> bool:
        """Every report in exactly one incident at the end (none waits, all placed)."""
        g = self.grouping
        return g.ungrouped == 0 and g.in_incident >= self.rows

    @property
    def projection(self) -> float:
        """Reports/s if all cores ran only this benchmark at the measured CPU per request."""
        m = self.main
        if not (m.tree_cpu_s.get("gunicorn", 0.0) and m.requests):
            return math.nan
        return (os.cpu_count() or 1) / (self.all_cpu_s / m.requests) * self.args.batch

    @property
    def all_cpu_s(self) -> float:
        """CPU-seconds of the watched trees and the clients during the load."""
        return sum(self.main.tree_cpu_s.values()) + self.main.client_cpu_s


def verdict(ok: bool) -> str:
    """Return PASS or MISS."""
    return "PASS" if ok else "MISS"


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


def print_summary(r: LoadResult, facts: dict[str, str]) -> None:
    """Print the summary block with PASS/MISS against the issue's targets."""
    args, main = r.args, r.main
    print("\n" + RULE)
    print("SUMMARY: ingest benchmark (POST /api/v1/sync/push)")
    print(RULE)
    print(f"command       : {shlex.join(sys.orig_argv)}")
    print(f"cwd           : {Path.cwd()}")
    for key, value in facts.items():
        print(f"{key:<14}: {value}")
    print(
        f"server        : gunicorn -c deploy/gunicorn.conf.py server.wsgi:app, {args.workers} sync "
        f"workers, access log /dev/null, database {r.kind}"
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
        f"row check     : {r.rows} rows == {main.acked} acknowledged -> "
        f"{'OK' if r.rows == main.acked else 'MISMATCH'}"
    )
    g = r.grouping
    print(
        f"grouping delay: p50 {g.pct(0.5):.0f} ms, p99 {g.pct(0.99):.0f} ms, max "
        f"{g.pct(1.0):.0f} ms from acknowledgement to incident (polled every "
        f"{POLL * 1000:.0f} ms); queue empty {g.settle_s:.2f} s after the load"
    )
    print(f"CPU (cores)   : {main.cpu_line()}")
    if main.other_cores > OTHER_CORES_LIMIT:
        print(
            f"  ** CONTAMINATED: other processes used {main.other_cores:.2f} cores during the "
            "load; throughput figures are pessimistic, see the projection below **"
        )
    _print_efficiency(r)
    print(
        f"gunicorn log  : {r.restarts} worker restarts (max_requests; whole run incl. baselines), "
        f"{r.tracebacks} tracebacks"
    )
    if r.pg_stats:
        print(f"pg reports    : {r.pg_stats}")
    if r.locks is not None:
        locks = r.locks
        lock_name = "write lock" if r.kind == "sqlite" else "counter lock"
        print(
            f"{lock_name:<14}: wait p50 {locks['wait_p50_ms']:.1f} / mean "
            f"{locks['wait_mean_ms']:.1f} / p99 {locks['wait_p99_ms']:.1f} ms, held mean "
            f"{locks['hold_mean_ms']:.1f} ms (COMMIT {locks['commit_mean_ms']:.2f} ms); "
            f"workers spent {locks['wait_total_s'] / (args.workers * main.elapsed) * 100:.0f} % "
            f"of their time waiting for it (--lock-stats hooks active)"
        )
    print(
        f"ceiling SQLite: {r.ceiling.rows_per_s:,.0f} rows/s; server/ceiling = "
        f"{r.ratio * 100:.1f} %"
    )
    print(f"ceiling rows  : {r.shape}")
    if r.pg_ceiling is not None:
        print(
            f"ceiling PG    : {r.pg_ceiling.rows_per_s:,.0f} rows/s; server/PG ceiling = "
            f"{main.reports_per_s / r.pg_ceiling.rows_per_s * 100:.1f} %"
        )
    for mode, ph in r.baselines:
        extra = f", {ph.reports_per_s:,.0f} reports/s" if mode == "push1" else ""
        print(
            f"baseline {mode:<5}: {ph.rps:,.0f} req/s{extra}, p50 {ph.pct(0.5):.1f} ms "
            f"(unexpected statuses {ph.non_expected})"
        )
    scope = "" if r.kind == "sqlite" else "  [the issue states these targets for SQLite]"
    print(
        f"TARGET reports/s >= {TARGET_REPORTS_PER_S:,}: "
        f"{verdict(main.reports_per_s >= TARGET_REPORTS_PER_S)} ({main.reports_per_s:,.0f})" + scope
    )
    print(
        f"TARGET server/ceiling >= {TARGET_CEILING_RATIO:.0%}: "
        f"{verdict(r.ratio >= TARGET_CEILING_RATIO)} ({r.ratio * 100:.1f} %)" + scope
    )
    print(
        f"TARGET server/ceiling >= {TARGET_CEILING_RATIO_13:.0%} (issue 13): "
        f"{verdict(r.ratio >= TARGET_CEILING_RATIO_13)} ({r.ratio * 100:.1f} %)" + scope
    )
    print(
        f"TARGET p99 < {TARGET_P99_MS:.0f} ms (issue 13): "
        f"{verdict(main.pct(0.99) < TARGET_P99_MS)} ({main.pct(0.99):.1f} ms)" + scope
    )
    print(
        "CORRECTNESS (0 non-200, rows == acknowledged, every report in one incident): "
        f"{'OK' if r.correct else 'FAILED'}"
    )
    print(RULE)


def print_grouping(g: Grouping, rows: int) -> None:
    """Print the grouping delay and whether every report ended in an incident."""
    print(
        f"  grouping delay (acknowledgement -> incident): p50 {g.pct(0.5):.0f} ms, "
        f"p99 {g.pct(0.99):.0f} ms over {len(g.delays)} reports; at the end "
        f"{g.ungrouped} ungrouped, {g.in_incident} in an incident (rows added {rows})"
    )


def _print_efficiency(r: LoadResult) -> None:
    """Print CPU per request and the CPU-only projection (when gunicorn's CPU was measured)."""
    main = r.main
    server_cpu = main.tree_cpu_s.get("gunicorn", 0.0)
    if not (server_cpu and main.requests):
        return
    print(
        f"efficiency    : {main.acked / server_cpu:,.0f} reports per gunicorn CPU-second "
        f"= {server_cpu / main.requests * 1000:.1f} ms of gunicorn CPU per request; "
        f"{r.all_cpu_s / main.requests * 1000:.1f} ms incl. database and clients"
    )
    print(
        f"projection    : <= {r.projection:,.0f} reports/s if all {os.cpu_count() or 1} cores "
        "ran only this benchmark and nothing ever waited (CPU per request as measured; an upper "
        "bound, not a measurement)"
    )


def write_json(path: Path, r: LoadResult, facts: dict[str, str]) -> None:
    """Write the figures as JSON (--json-out)."""
    main = r.main
    summary: dict[str, Any] = {
        "db": r.kind,
        "args": vars(r.args),
        "facts": facts,
        "reports_per_s": main.reports_per_s,
        "requests_per_s": main.rps,
        "p50_ms": main.pct(0.5),
        "p99_ms": main.pct(0.99),
        "non_200": main.non_expected,
        "rows": r.rows,
        "acked": main.acked,
        "cpu_busy": main.cpu_busy,
        "client_cores": main.client_cpu_s / main.elapsed,
        "tree_cores": {k: v / main.elapsed for k, v in main.tree_cpu_s.items()},
        "ceiling_sqlite_rows_per_s": r.ceiling.rows_per_s,
        "ratio": r.ratio,
        "ceiling_pg_rows_per_s": r.pg_ceiling.rows_per_s if r.pg_ceiling else None,
        "baselines": {m: {"rps": p.rps, "p50_ms": p.pct(0.5)} for m, p in r.baselines},
        "worker_restarts": r.restarts,
        "other_cores": main.other_cores,
        "lock_stats": r.locks,
        "pg_reports_stats": r.pg_stats,
        "projection_reports_per_s": r.projection,
        "grouping_delay_p50_ms": r.grouping.pct(0.5),
        "grouping_delay_p99_ms": r.grouping.pct(0.99),
        "grouping_settle_s": r.grouping.settle_s,
        "ungrouped_at_end": r.grouping.ungrouped,
    }
    path.write_text(json.dumps(summary, indent=2, default=str))
