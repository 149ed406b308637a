"""PostgreSQL stopped and started again while phones sync, gunicorn left running.

A private PostgreSQL server (not the session's) is stopped in fast mode, which ends every
connection mid-transaction, kept down for a moment and started again. Pushes in flight
and pushes while it is down get a clear 503 `database_unavailable` with Retry-After (never
a 500); the phones retry with backoff; the app's pool (pre-ping) reconnects by itself, so
pushes succeed again without restarting gunicorn; every report is stored exactly once. A
workspace page asked for while the database is down gets a plain 503 too.
"""

from __future__ import annotations

import os
import re
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.support.faultdevice import Ledger, SimDevice
from tests.support.faultrun import FaultRunConfig, compare, setup_devices
from tests.support.gunicorn import REPO_ROOT, GunicornServer, server_env
from tests.support.pgserver import PostgresServer, find_pg_bin
from tests.system.conftest import LAGESBILD, SystemEnv

pytestmark = pytest.mark.slow

DEVICES = 4
BEFORE_STOP = 2.0  # seconds of syncing before PostgreSQL stops
DOWN = 1.5  # seconds PostgreSQL stays down
AFTER_START = 3.0  # seconds of syncing after it is back
DRAIN = 30.0
CONFIG = FaultRunConfig(
    devices=DEVICES, batch=(5, 20), think=(0.01, 0.05), backoff_base=0.05, backoff_max=0.5
)
_ACCESS = re.compile(r'^\S+ "[A-Z]+ [^"]*" (\d{3}) ', re.MULTILINE)


@pytest.fixture
def private_pg(tmp_path: Path) -> Iterator[PostgresServer]:
    """Start a PostgreSQL server of this test's own, so stopping it disturbs no one else."""
    bin_dir = find_pg_bin()
    if bin_dir is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL binaries are missing; this test must run in CI.")
        pytest.skip("no initdb/pg_ctl under /usr/lib/postgresql/*/bin")
    server = PostgresServer(bin_dir).start()
    try:
        yield server
    finally:
        server.stop()


def pg_ctl(server: PostgresServer, *args: str) -> None:
    """Run pg_ctl on the server's cluster (as the postgres user when we are root)."""
    # `_run` is the server's own way to call its tools (runuser under root).
    result = server._run("pg_ctl", "-D", str(server.data_dir), "-w", *args)
    assert result.returncode == 0, result.stdout + result.stderr


def login_form(server: GunicornServer) -> tuple[requests.Session, str]:
    """Open the workspace login form; return the browser session and its CSRF token."""
    browser = requests.Session()
    form = browser.get(server.url + "/workspace/login", timeout=10)
    assert form.status_code == 200, form.text[:300]
    match = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert match, "no CSRF token in the login form"
    return browser, match.group(1)


def answers_while_down(
    server: GunicornServer, token: str, browser: requests.Session, csrf: str
) -> tuple[requests.Response, requests.Response]:
    """Return a push's answer and a workspace login's answer while the database is down."""
    push = requests.post(
        server.url + "/api/v1/sync/push",
        json={"reports": []},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    page = browser.post(
        server.url + "/workspace/login",
        data={"email": "samordnare@fel.test", "password": "fel", "csrf_token": csrf},
        headers={"Origin": server.url, "Referer": server.url + "/workspace/login"},
        timeout=10,
    )
    return push, page


def test_postgres_restart_during_sync_answers_503_and_recovers(
    private_pg: PostgresServer, tmp_path: Path
) -> None:
    private_pg.create_database("faults")
    env = SystemEnv(private_pg.url("faults"), tmp_path / "data", tmp_path / "logs")
    env.data_dir.mkdir()
    env.log_dir.mkdir()
    subprocess.run(
        [*LAGESBILD, "db", "upgrade"],
        cwd=REPO_ROOT,
        env=server_env(env.database_url, env.data_dir),
        check=True,
        capture_output=True,
        timeout=120,
    )
    server = GunicornServer(env.database_url, env.data_dir, env.log_dir / "g.log", workers=2)
    server.start()
    ledger = Ledger()
    stop, draining = threading.Event(), threading.Event()
    try:
        enrolled = setup_devices(env.database_url, env.data_dir, server, DEVICES)
        devices = [
            SimDevice(i, dev, token, CONFIG, ledger, lambda: server.url)
            for i, (dev, token) in enumerate(enrolled)
        ]
        threads = [threading.Thread(target=d.run, args=(stop, draining)) for d in devices]
        for t in threads:
            t.start()
        time.sleep(BEFORE_STOP)
        before = ledger.answers["200"]
        assert before > 0, f"no push succeeded before the stop: {ledger.answers}"
        browser, csrf = login_form(server)
        pg_ctl(private_pg, "-m", "fast", "stop")
        down = time.monotonic()
        push, page = answers_while_down(server, enrolled[0][1], browser, csrf)
        time.sleep(max(0.0, DOWN - (time.monotonic() - down)))
        # `restart` starts a stopped cluster with the options it last ran with (same port).
        # The log file keeps the server's output away from pg_ctl's pipes (else it hangs).
        pg_ctl(private_pg, "-m", "fast", "-l", str(private_pg.data_dir.parent / "log"), "restart")
        back = time.monotonic()
        time.sleep(AFTER_START)
        draining.set()
        for t in threads:
            t.join(timeout=DRAIN)
        recovered = time.monotonic() - back
    finally:
        stop.set()
        server.stop()
    result = compare(env.database_url, devices, ledger, Counter(), time.monotonic())
    statuses = [int(code) for code in _ACCESS.findall(server.log_text())]
    unavailable = [s for s in statuses if s >= 500]
    print(f"\n{result.summary()}\nrecovered in {recovered:.1f} s; 5xx: {unavailable[:5]}…")
    assert not ledger.errors, "\n".join(ledger.errors[:10])
    assert push.status_code == 503 and push.headers["Retry-After"] == "5", push.text
    assert push.json()["error"]["code"] == "database_unavailable"
    assert page.status_code == 503 and page.headers["Retry-After"] == "5", page.text[:300]
    assert page.headers["Content-Type"].startswith("text/")
    assert set(unavailable) == {503}, f"5xx other than 503: {sorted(set(unavailable))}"
    assert ledger.answers["503"] > 0, f"the restart met no push: {ledger.answers}"
    # Gunicorn was never restarted: no connection errors, and pushes succeed again.
    assert set(ledger.answers) <= {"200", "503"}, ledger.answers
    assert ledger.answers["200"] > before
    assert result.undelivered == 0
    assert result.lost == 0
    assert result.duplicated == 0
    assert result.wrong == 0
    # No request failed unhandled. (The background grouping job logs its failed passes
    # with a traceback while the database is away; its queue waits for the next pass.)
    unhandled = [line for line in server.problems() if "Exception on /" in line]
    assert not unhandled, server.log_tail(120)
