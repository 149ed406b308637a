#!/usr/bin/env python3
"""The long randomized fault run (docs/faults.md): many phones, a faulty network, kills.

Fresh temp database (a throwaway PostgreSQL by default, or SQLite) -> `lagesbild db
upgrade` -> gunicorn (deploy/gunicorn.conf.py) behind the fault proxy -> N simulated
devices push through drops, delays, duplicates, resets, cut answers and SIGKILLs of the
server for the given time -> the faults stop, every outbox drains -> what each device
believes is stored is compared with the database. Prints trials, faults by kind, lost and
duplicated; exits 1 unless lost, duplicated, undelivered and wrong are 0 with no errors.

    .venv/bin/python -m bench.faults --devices 100 --minutes 10

The engine is tests/support/faultrun.py, shared with tests/system/test_fault_run.py.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # tests.support, server, sync

from tests.support.faultproxy import KINDS  # noqa: E402
from tests.support.faultrun import FaultRunConfig, run  # noqa: E402
from tests.support.gunicorn import server_env  # noqa: E402
from tests.support.pgserver import PostgresServer, find_pg_bin  # noqa: E402


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the command line."""
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--devices", type=int, default=100, help="simulated devices (default 100)")
    p.add_argument("--minutes", type=float, default=10.0, help="faulty phase (default 10)")
    p.add_argument("--db", choices=("postgres", "sqlite"), default="postgres")
    p.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    p.add_argument("--seed", type=int, default=14)
    p.add_argument(
        "--kill-every",
        type=float,
        nargs=2,
        default=(10.0, 30.0),
        metavar=("MIN", "MAX"),
        help="seconds between server kills, uniformly (default 10 30)",
    )
    p.add_argument(
        "--think",
        type=float,
        nargs=2,
        default=(0.5, 3.0),
        metavar=("MIN", "MAX"),
        help="seconds a device waits between pushes, uniformly (default 0.5 3)",
    )
    p.add_argument("--drain", type=float, default=300.0, help="seconds to drain (default 300)")
    p.add_argument("--keep", action="store_true", help="keep the temp directory (logs)")
    return p.parse_args(argv)


def migrate(database_url: str, data_dir: Path) -> None:
    """Build the schema with `lagesbild db upgrade`, as an installation does."""
    subprocess.run(
        [sys.executable, "-m", "server.cli", "db", "upgrade"],
        cwd=ROOT,
        env=server_env(database_url, data_dir),
        check=True,
        capture_output=True,
        timeout=300,
    )


def main(argv: list[str] | None = None) -> int:
    """Run the fault run and print its figures; return the exit code."""
    args = parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="lagesbild-faults-"))
    pg: PostgresServer | None = None
    try:
        if args.db == "postgres":
            bin_dir = find_pg_bin()
            if bin_dir is None:
                print("no PostgreSQL binaries (initdb, pg_ctl); use --db sqlite", file=sys.stderr)
                return 2
            pg = PostgresServer(bin_dir).start()
            pg.create_database("faults")
            url = pg.url("faults")
        else:
            url = f"sqlite:///{workdir / 'faults.sqlite3'}"
        migrate(url, workdir / "data")
        config = FaultRunConfig(
            devices=args.devices,
            seconds=args.minutes * 60,
            seed=args.seed,
            workers=args.workers,
            kill_every=tuple(args.kill_every),
            drain_seconds=args.drain,
            think=tuple(args.think),
            http_timeout=10.0,
        )
        print(
            f"fault run: {args.devices} devices, {args.minutes:g} min, {args.db},"
            f" {args.workers} workers, seed {args.seed}, kills every"
            f" {args.kill_every[0]:g}-{args.kill_every[1]:g} s, faults {config.rates}",
            flush=True,
        )
        started = time.monotonic()
        result = run(url, workdir, config, progress=lambda line: print(line, flush=True))
        print(result.summary())
        for error in result.errors[:20]:
            print(f"error: {error}")
        kept = f"; logs in {workdir}/logs" if args.keep else ""
        print(f"wall {time.monotonic() - started:.0f} s{kept}")
        every_kind = all(result.faults.get(k, 0) > 0 for k in (*KINDS, "kill"))
        ok = (
            result.lost == result.duplicated == result.undelivered == result.wrong == 0
            and not result.errors
            and every_kind
        )
        print("PASS" if ok else "FAIL")
        return 0 if ok else 1
    finally:
        if pg is not None:
            pg.stop()
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
