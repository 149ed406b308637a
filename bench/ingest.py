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

Run it with the project's venv: ``.venv/bin/python bench/ingest.py --help``. The code lives in
``bench/ingestlib/``; this file is the command line.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # bench.ingestlib, tests.support.pgserver, sync, server

from bench.ingestlib.common import BenchError  # noqa: E402
from bench.ingestlib.loadmode import load_mode  # noqa: E402
from bench.ingestlib.machine import cpu_calibration, machine_facts, wait_for_quiet  # noqa: E402
from bench.ingestlib.profiling import profile_mode  # noqa: E402


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
    p.add_argument(
        "--cpu-split",
        action="store_true",
        help="diagnostic: split the workers' CPU per request into the Flask app, gunicorn "
        "around it and other threads such as the grouping job (wrapper config; skips the "
        "baselines)",
    )
    p.add_argument("--json-out", help="also write the summary as JSON to this file")
    p.add_argument("--keep", action="store_true", help="keep the temp directory")
    p.add_argument("--profile", action="store_true", help="in-process breakdown per batch instead")
    p.add_argument("--profile-batches", type=int, default=200, help="batches per profile step")
    p.add_argument("--profile-top", type=int, default=25, help="functions listed by the profile")
    args = p.parse_args(argv)
    if args.cpu_split and args.lock_stats:
        p.error("--cpu-split and --lock-stats each wrap the gunicorn config; choose one")
    if args.clients < 1 or args.batch < 1 or args.workers < 1 or args.seconds <= 0:
        p.error("--clients, --batch, --workers and --seconds must be positive")
    return args


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark."""
    args = parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="lagesbild-bench-"))
    try:
        busy = wait_for_quiet(args.wait_quiet)
        facts = machine_facts(tmp, busy)
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
