"""Load mode: gunicorn + client processes, baselines or lock statistics, then the ceiling."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import TYPE_CHECKING

from bench.ingestlib.ceiling import SQLITE_SETTINGS, postgres_ceiling, shape_check, sqlite_ceiling
from bench.ingestlib.clients import BASELINES, run_phase
from bench.ingestlib.cpusplit import cpu_split_summary, print_cpu_split
from bench.ingestlib.cpusplit import write_wrapper_config as cpu_split_config
from bench.ingestlib.db import (
    SERVER_DB,
    Database,
    count_reports,
    pg_table_stats,
    prepare_sqlite,
    server_database,
    sqlite_copy,
)
from bench.ingestlib.delay import GroupingWatch
from bench.ingestlib.lockstats import lock_stats_summary
from bench.ingestlib.report import (
    LoadResult,
    print_grouping,
    print_locks,
    print_phase,
    print_summary,
    write_json,
)
from bench.ingestlib.server import Gunicorn, enrol

if TYPE_CHECKING:
    from tests.support.pgserver import PostgresServer

CEILING_DB = "lb_ceiling"  # PostgreSQL: an idle copy of the freshly migrated server database


def load_mode(args: argparse.Namespace, tmp: Path, facts: dict[str, str]) -> int:
    """Run the HTTP benchmark; return the exit code (1 on a correctness failure)."""
    t_setup = time.monotonic()
    with server_database(args.db, tmp, args.clients, facts) as (db, pg):
        if pg is not None:
            # The same migrated database, idle, as the Postgres ceiling's target; the issue's
            # ceiling is SQLite, so a migrated SQLite database is built for it too.
            pg.create_database(CEILING_DB, template=SERVER_DB)
            ceil_db = prepare_sqlite(
                tmp / "ceiling-src.sqlite3", tmp / "data-ceiling", args.clients
            )
        else:
            ceil_db = db
        ceil_path = tmp / "ceiling.sqlite3"
        assert ceil_db.sqlite_path is not None
        sqlite_copy(ceil_db.sqlite_path, ceil_path)  # fresh: migrated, org + devices, no reports
        print(f"set-up (migrate, org, {args.clients} devices): {time.monotonic() - t_setup:.1f} s")
        result = _measure(args, tmp, db, pg, ceil_db, ceil_path)
    print_summary(result, facts)
    if args.json_out:
        write_json(Path(args.json_out), result, facts)
    return 0 if result.correct else 1


def _measure(
    args: argparse.Namespace,
    tmp: Path,
    db: Database,
    pg: PostgresServer | None,
    ceil_db: Database,
    ceil_path: Path,
) -> LoadResult:
    """Run the load, the baselines (or the lock statistics) and the ceilings."""
    lock_dir = tmp / "lockstats" if args.lock_stats else None
    if lock_dir is not None:
        lock_dir.mkdir()
    split_dir = tmp / "cpusplit" if args.cpu_split else None
    config = None
    if split_dir is not None:
        split_dir.mkdir()
        config = cpu_split_config(split_dir)
    gun = Gunicorn(db, args.workers, tmp / "gunicorn.log", lock_dir, config)
    try:
        gun.start()
        tokens = [enrol(gun.port, d["code"]) for d in db.devices]
        print(f"gunicorn up on port {gun.port} ({args.workers} workers); {len(tokens)} enrolled")

        watch = {"gunicorn": gun.pid}
        if pg is not None:
            watch["postgres"] = int((pg.data_dir / "postmaster.pid").read_text().split()[0])
        before = count_reports(db, pg)
        grouping = GroupingWatch(db, pg).start()
        main = run_phase("push", gun.port, tokens, args.clients, args.batch, args.seconds, watch)
        grouped = grouping.finish()
        rows = count_reports(db, pg) - before
        print_phase(
            f"LOAD: {args.clients} clients x batches of {args.batch} new reports, "
            f"{args.seconds:g} s",
            main,
        )
        print(f"  rows added to reports: {rows}; acknowledged reports: {main.acked}")

        result = LoadResult(args, db.kind, main, rows, grouping=grouped)
        print_grouping(grouped, rows)
        result.pg_stats = pg_table_stats(pg, db) if pg is not None else ""
        if result.pg_stats:
            print(f"  postgres reports table: {result.pg_stats}")
        if lock_dir is not None:
            # Workers write their figures when they exit; stop now so they cover the load only.
            gun.stop()
            result.locks = lock_stats_summary(lock_dir)
            print_locks(result.locks, main)
        elif split_dir is not None:
            gun.stop()  # the workers write their figures when they exit
            print_cpu_split(cpu_split_summary(split_dir))
        elif args.baseline_seconds > 0:
            for mode, desc in BASELINES:
                ph = run_phase(
                    mode, gun.port, tokens, args.clients, 0, args.baseline_seconds, watch
                )
                result.baselines.append((mode, ph))
                print_phase(f"BASELINE {mode}: {desc}", ph)
    finally:
        gun.stop()
    glog = gun.log_text()
    result.restarts = glog.count("Autorestarting worker")
    result.tracebacks = glog.count("Traceback")

    print(f"\n--- CEILING: {main.acked} rows, executemany {args.batch} per transaction")
    n = max(main.acked, args.batch)
    sq = result.ceiling = sqlite_ceiling(ceil_path, ceil_db, n, args.batch)
    print(
        f"  SQLite: {sq.rows_per_s:,.0f} rows/s "
        f"({sq.rows} rows in {sq.seconds:.2f} s; {SQLITE_SETTINGS})"
    )
    result.shape = (
        shape_check(db.sqlite_path, ceil_path)
        if db.sqlite_path is not None
        else "n/a (server on Postgres)"
    )
    print(f"  row shape vs a server-written row: {result.shape}")
    if pg is not None:
        pgc = result.pg_ceiling = postgres_ceiling(pg, CEILING_DB, db, n, args.batch)
        print(f"  Postgres: {pgc.rows_per_s:,.0f} rows/s ({pgc.rows} rows in {pgc.seconds:.2f} s)")
    return result
