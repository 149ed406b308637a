"""In-process memory probe of one sync worker under the soak's request mix (issue 14).

The app runs in this process, as one gunicorn worker runs it (production settings, the
digest, purge, alerts and grouping jobs in their threads), behind Flask's test client. Each
round is one phone's sync pass of the soak (`bench/loadlib/users.py`): on half the rounds a
new 640x480 photo, a push of two new reports, a pull, a thumbnail download; every
`--page-every` rounds one of the coordinator's four workspace pages, in turn (the soak's
mix: about one page per nine passes). Every `--sample` rounds it prints RSS, the C heap as
glibc sees it (in use, and free but kept) and Python's own heap (tracemalloc, when on);
at the end, the tracemalloc lines that grew most between the first sample and the last.

    .venv/bin/python -m bench.memprobe --rounds 1750 --sample 125
    .venv/bin/python -m bench.memprobe --rounds 1750 --grouping inline --trace
    MALLOC_ARENA_MAX=2 .venv/bin/python -m bench.memprobe --rounds 1750

`MALLOC_ARENA_MAX` and other `MALLOC_*` variables act only when set before the process starts.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.ingestlib.db import SERVER_DB, lagesbild, server_env, start_postgres
from bench.loadlib import plan
from bench.loadlib.coordinator import PAGES
from bench.loadlib.photos import PhotoFile, generate
from bench.loadlib.provision import provision
from bench.memlib import MIB, breakdown
from server import memory

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class Probe:
    """The app, a logged-in coordinator and the devices; one sync pass per round."""

    def __init__(self, app: Any, tokens: list[str], photos: list[Any], setup: Any) -> None:
        """Log the coordinator in through the form."""
        self.app = app
        self.client = app.test_client()
        self.tokens = tokens
        self.photos = photos
        self.rnd = random.Random(2026)
        self.cursors: dict[str, str | None] = {}
        self.sent: dict[str, list[str]] = {}
        self.next_photo = 0
        self.page = 0
        page = self.client.get("/workspace/login")
        found = _CSRF.search(page.get_data(as_text=True))
        assert found, "no CSRF token on the login form"
        form = {"csrf_token": found.group(1), "email": setup.email, "password": setup.password}
        resp = self.client.post("/workspace/login", data=form)
        assert resp.status_code == 302, resp.status_code

    def _check(self, resp: Any, status: int, what: str) -> Any:
        """Fail loudly on an answer the app would not accept; then gunicorn's post_request."""
        memory.trim()  # deploy/gunicorn.conf.py's post_request hook
        if resp.status_code != status:
            raise SystemExit(f"{what}: {resp.status_code} {resp.get_data(as_text=True)[:300]}")
        return resp

    def sync_pass(self, i: int, grow: bool) -> None:
        """One phone pass: a photo (half the rounds), a push of two reports, pull, thumbnail."""
        token = self.tokens[i % len(self.tokens)]
        auth = {"Authorization": f"Bearer {token}"}
        named: list[str] = []
        if grow and self.rnd.random() < 0.5:
            photo = self.photos[self.next_photo % len(self.photos)]
            self.next_photo += 1
            resp = self.client.put(
                f"/api/v1/photos/{photo.sha256}",
                data=photo.path.read_bytes(),
                headers={**auth, "Content-Type": "image/jpeg"},
            )
            self._check(resp, resp.status_code if resp.status_code == 200 else 201, "photo")
            named = [photo.sha256]
            self.sent.setdefault(token, []).append(photo.sha256)
        if grow:
            now = datetime.now(UTC)
            body = {"reports": [plan.report(self.rnd, now, named), plan.report(self.rnd, now, [])]}
            self._check(self.client.post("/api/v1/sync/push", json=body, headers=auth), 200, "push")
        query = {"pending": "0"}
        if self.cursors.get(token):
            query["cursor"] = str(self.cursors[token])
        pulled = self._check(
            self.client.get("/api/v1/sync/pull", query_string=query, headers=auth), 200, "pull"
        ).get_json()
        self.cursors[token] = pulled.get("cursor") or self.cursors.get(token)
        if self.sent.get(token):
            sha = self.rnd.choice(self.sent[token])
            resp = self.client.get(f"/api/v1/photos/{sha}?size=thumb", headers=auth)
            self._check(resp, 200, "photo download").close()

    def workspace_page(self, which: int | None = None) -> None:
        """Open the coordinator's next page (night view, incident list, map data, digest)."""
        if which is None:
            which = self.page
            self.page += 1
        name, path, _ = PAGES[which % len(PAGES)]
        self._check(self.client.get(path), 200, name).close()

    def peaks(self, i: int) -> dict[str, float]:
        """Return the peak of Python allocations (MiB) of each request kind, one at a time."""
        time.sleep(0.5)  # the grouping thread's pass would count in the peaks
        out: dict[str, float] = {}
        kinds = [(f"pass {i}", lambda: self.sync_pass(i, grow=True))] + [
            (name, lambda k=k: self.workspace_page(k)) for k, (name, _, _) in enumerate(PAGES)
        ]
        for name, call in kinds:
            tracemalloc.start(1)
            try:
                call()
                out[name.split()[0] if name.startswith("pass") else name] = (
                    tracemalloc.get_traced_memory()[1] / MIB
                )
            finally:
                tracemalloc.stop()
        print("  peaks (MiB): " + ", ".join(f"{k} {v:.1f}" for k, v in out.items()))
        return out


def _sample(rounds: int, started: float) -> dict[str, float]:
    """Return one line of figures (MiB) and print it."""
    row: dict[str, float] = {"round": rounds, "s": time.monotonic() - started, **breakdown()}
    if tracemalloc.is_tracing():
        row["traced"] = tracemalloc.get_traced_memory()[0] / MIB
    print("  ".join(f"{k} {v:.1f}" if isinstance(v, float) else f"{k} {v}" for k, v in row.items()))
    sys.stdout.flush()
    return row


def _top_growth(first: tracemalloc.Snapshot, last: tracemalloc.Snapshot, top: int) -> None:
    """Print the source lines whose live allocations grew most between two snapshots."""
    keep = [tracemalloc.Filter(False, tracemalloc.__file__)]
    stats = last.filter_traces(keep).compare_to(first.filter_traces(keep), "lineno")
    print(f"\ntracemalloc: top {top} growth by file:line (first sample -> last)")
    for stat in stats[:top]:
        frame = stat.traceback[0]
        print(
            f"  {stat.size_diff / 1024:+9.1f} KiB {stat.count_diff:+7d} blocks  "
            f"{frame.filename}:{frame.lineno}"
        )


TRIM_SECONDS = [0.0, 0]  # wall time spent in malloc_trim, and the number of trims


def _time_trims() -> None:
    """Count the trims and the time they take (wraps server.memory's malloc_trim)."""
    inner = memory._trim
    if inner is None:
        return

    def timed(pad: int) -> int:
        t = time.perf_counter()
        try:
            return inner(pad)
        finally:
            TRIM_SECONDS[0] += time.perf_counter() - t
            TRIM_SECONDS[1] += 1

    memory._trim = timed


def _stop_jobs(app: Any) -> None:
    """Stop the app's jobs as gunicorn's worker_exit hook does."""
    from server.alerts import worker as alerts
    from server.digest import scheduler as digest
    from server.incidents import worker as grouping
    from server.retention import worker as purge

    for job in (alerts, digest, grouping, purge):
        job.stop_in_worker(app)


def _photos_in_child(folder: Path, count: int) -> list[PhotoFile]:
    """Make the photos in a child process, so their pixels never touch this process's heap."""
    cmd = [sys.executable, "-m", "bench.memprobe", "--make-photos", str(folder), str(count)]
    subprocess.run(cmd, check=True, timeout=600)
    return [PhotoFile(p.stem, p, p.stat().st_size) for p in sorted(folder.glob("*.jpg"))]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the command line."""
    p = argparse.ArgumentParser(prog="python -m bench.memprobe", description=__doc__)
    p.add_argument("--rounds", type=int, default=1750, help="sync passes (soak: ~1,750)")
    p.add_argument("--sample", type=int, default=125, help="rounds between two samples")
    p.add_argument("--devices", type=int, default=30)
    p.add_argument("--page-every", type=int, default=9, help="rounds per workspace page (0: none)")
    p.add_argument("--database", choices=("postgres", "sqlite"), default="postgres")
    p.add_argument("--grouping", choices=("background", "inline"), default="background")
    p.add_argument("--fixed", type=int, default=0, help="grow the data for N rounds, then stop")
    p.add_argument("--trace", action="store_true", help="tracemalloc (slower, more memory)")
    p.add_argument("--no-trim", action="store_true", help="as before server/memory.py")
    p.add_argument("--peaks", action="store_true", help="each request kind's peak, per sample")
    p.add_argument("--top", type=int, default=25)
    p.add_argument("--json-out", type=Path)
    p.add_argument("--make-photos", nargs=2, metavar=("DIR", "COUNT"), help=argparse.SUPPRESS)
    return p.parse_args(argv)


def run(args: argparse.Namespace, tmp: Path) -> list[dict[str, float]]:
    """Set up the database and devices, build the app here, run the rounds, sample."""
    pg = None
    try:
        if args.database == "postgres":
            pg = start_postgres()
            pg.create_database(SERVER_DB)
            url = pg.url(SERVER_DB)
        else:
            url = f"sqlite:///{tmp / 'probe.sqlite3'}"
        env = server_env(url, tmp / "data")
        env["LAGESBILD_GROUPING"] = args.grouping
        lagesbild(env, "db", "upgrade")
        setup = provision(env, args.devices)
        photos = _photos_in_child(tmp / "photos", args.rounds // 2 + 10)
        os.environ.clear()
        os.environ.update(env)
        from server.app import create_app

        if args.no_trim:
            memory._trim = None  # neither requests nor job ticks give freed memory back
        _time_trims()

        app = create_app()
        probe = Probe(app, setup.tokens, photos, setup)
        started = time.monotonic()
        rows = [_sample(0, started)]
        first: tracemalloc.Snapshot | None = None
        for i in range(1, args.rounds + 1):
            probe.sync_pass(i, grow=not args.fixed or i <= args.fixed)
            if args.page_every and i % args.page_every == 0:
                probe.workspace_page()
            if i % args.sample == 0:
                rows.append(_sample(i, started))
                if args.peaks:
                    rows[-1].update(probe.peaks(i))
                if args.trace and first is None:
                    first = tracemalloc.take_snapshot()
        time.sleep(2)  # let the grouping thread finish its last pass
        gc.collect()
        rows.append(_sample(args.rounds, started))
        _stop_jobs(app)  # before the database goes away under them
        if first is not None:
            _top_growth(first, tracemalloc.take_snapshot(), args.top)
        return rows
    finally:
        if pg is not None:
            pg.stop()


def main(argv: list[str] | None = None) -> int:
    """Run the probe and print the growth from the first sample to the last."""
    args = parse_args(argv)
    if args.make_photos:
        generate(Path(args.make_photos[0]), int(args.make_photos[1]), 640, 480)
        return 0
    if args.trace:
        tracemalloc.start(1)
    print(f"memprobe: {vars(args)}; MALLOC_ARENA_MAX={os.environ.get('MALLOC_ARENA_MAX')}")
    tmp = Path(tempfile.mkdtemp(prefix="lagesbild-memprobe-"))
    try:
        rows = run(args, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    base, end = rows[1] if len(rows) > 1 else rows[0], rows[-1]
    print(
        f"\nRSS {rows[0]['rss']:.1f} MiB at start, {base['rss']:.1f} MiB at the first sample, "
        f"{end['rss']:.1f} MiB at the end ({(end['rss'] / base['rss'] - 1) * 100:+.1f} % from "
        f"the first sample); high-water mark {end['hwm']:.1f} MiB"
    )
    print(f"malloc_trim: {TRIM_SECONDS[1]} calls, {TRIM_SECONDS[0]:.2f} s in all")
    if args.json_out:
        args.json_out.write_text(json.dumps({"args": str(vars(args)), "rows": rows}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
