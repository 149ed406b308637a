"""Printing the profile mode's figures: plain times, the timer tree, the lock, cProfile."""

from __future__ import annotations

import re
import shlex
import sys
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING

from bench.ingestlib.common import ROOT
from bench.ingestlib.timers import Key, Timers

if TYPE_CHECKING:
    from bench.ingestlib.profiling import Profile

ROOT_SPAN = "test_client.post (whole request)"


def print_profile(p: Profile, facts: dict[str, str], top: int) -> None:
    """Print the whole breakdown of one batch."""
    n, batch = p.n, p.batch
    print("\n" + "=" * 78)
    print(f"PROFILE: in-process push of batches of {batch} new reports ({p.kind})")
    print("=" * 78)
    print(f"command       : {shlex.join(sys.orig_argv)}")
    for key, value in facts.items():
        print(f"{key:<14}: {value}")
    print(
        "method        : create_app() + Flask test client, one thread, no gunicorn/HTTP/"
        f"concurrency; {n} batches per measurement after {p.warm_up} warm-up batches"
    )
    print(f"\nplain wall time per request ({n} requests each):")
    print(
        f"  batch of {batch:<3}: mean {p.mean:6.2f} ms, p50 {p.p50:6.2f} ms"
        f"  -> one process could do {batch / p.mean * 1000:,.0f} reports/s"
    )
    print(f"  batch of 1  : mean {p.mean1:6.2f} ms")
    print(f"  batch of 0  : mean {p.mean0:6.2f} ms (auth + fixed push cost)")
    print(
        f"  => fixed cost ~{p.mean1 - p.per_report:.2f} ms per request + ~{p.per_report:.3f} ms "
        f"per report (marginal, from batch 1 vs {batch})"
    )
    root = p.timers.total[(ROOT_SPAN,)]
    print(
        f"\nwall-clock breakdown per batch of {batch} (timers; inclusive ms, % of the whole "
        f"request, calls per batch; timer overhead: {p.timed_total_s / n * 1000 - p.mean:+.2f} "
        f"ms per batch vs plain):"
    )
    if p.untimed:
        print(f"  not timed (absent in this version of the server): {', '.join(p.untimed)}")
    print_tree(p.timers, n, root)
    if p.timers.lock_spans:
        _print_lock(p, root)
    _print_cprofile(p, top)


def print_tree(timers: Timers, batches: int, root_total: float) -> None:
    """Print inclusive ms per batch as a tree, with the unattributed rest of each node."""
    children: dict[Key, list[Key]] = defaultdict(list)
    for key in timers.total:
        children[key[:-1]].append(key)

    def show(key: Key, depth: int) -> None:
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


def _print_lock(p: Profile, root: float) -> None:
    """Print how long each request held the write lock."""
    spans = p.timers.lock_spans
    per_batch = sum(spans) / p.n * 1000
    what = (
        "SQLite write lock (BEGIN IMMEDIATE -> COMMIT done)"
        if p.kind == "sqlite"
        else "org change-counter row lock (SELECT ... FOR UPDATE -> COMMIT done)"
    )
    print(
        f"\n{what}: {len(spans) / p.n:g} "
        f"transactions per request, held {per_batch:.2f} ms per request = "
        f"{per_batch / (root / p.n * 1000) * 100:.0f} % of the request's wall time; longest "
        f"{max(spans) * 1000:.2f} ms"
    )


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
    try:
        rel = Path(filename).resolve().relative_to(ROOT)
        return f"project: {rel.parts[0]}/{rel.parts[1] if len(rel.parts) > 2 else ''}".rstrip("/")
    except ValueError:
        pass
    m = re.search(r"python3\.\d+/([A-Za-z0-9_]+)", filename)
    return f"stdlib: {m.group(1)}" if m else filename


def _print_cprofile(p: Profile, top: int) -> None:
    """Print the cProfile run: own time by library, top functions by own and cumulative time."""
    n = p.n
    entries = p.stats.stats.items()  # type: ignore[attr-defined]
    prof_total = sum(v[2] for _k, v in entries)
    print(
        f"\ncProfile of the same work (profiler inflates Python-heavy code; use shares): "
        f"{prof_total / n * 1000:.1f} ms per batch under the profiler"
    )
    buckets: dict[str, float] = defaultdict(float)
    for (filename, _line, func), (_cc, _nc, tt, _ct, _callers) in entries:
        buckets[profile_bucket(filename, func)] += tt
    print("  own time by library:")
    for name, tt in sorted(buckets.items(), key=lambda kv: -kv[1])[:18]:
        print(f"    {name:<40} {tt / n * 1000:7.2f} ms  {tt / prof_total * 100:5.1f} %")
    print("  top functions by own time:")
    for (filename, line, func), (_cc, nc, tt, ct, _callers) in sorted(
        entries, key=lambda kv: -kv[1][2]
    )[:top]:
        where = f"{profile_bucket(filename, func)}:{func}" + (f":{line}" if line else "")
        print(
            f"    {tt / n * 1000:6.2f} ms own {ct / n * 1000:7.2f} ms cum  "
            f"{nc / n:7.1f} calls  {where[:90]}"
        )
    print("  top functions by cumulative time (project code):")
    project = [kv for kv in entries if str(ROOT) in kv[0][0] and "/.venv/" not in kv[0][0]]
    for (filename, line, func), (_cc, nc, _tt, ct, _callers) in sorted(
        project, key=lambda kv: -kv[1][3]
    )[:top]:
        rel = Path(filename).relative_to(ROOT)
        print(f"    {ct / n * 1000:7.2f} ms cum  {nc / n:7.1f} calls  {rel}:{line} {func}")
