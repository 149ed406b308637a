"""The login brake on a real gunicorn: two workers share the count, and it survives restarts."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time

import requests
import sqlalchemy as sa

from tests.support.gunicorn import REPO_ROOT, GunicornServer, live_group_members, server_env
from tests.system.conftest import HTTP_TIMEOUT, LAGESBILD, SystemEnv

EMAIL = "vakt@example.se"
PASSWORD = "rätt-häst-batteri-häftklammer"
_CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def create_person(system: SystemEnv) -> None:
    """Create an organisation and a coordinator through the CLI (password on stdin)."""
    org = system.create_org("Brandskyddet")
    subprocess.run(
        [
            *LAGESBILD,
            "user",
            "create",
            "--org",
            org["slug"],
            "--email",
            EMAIL,
            "--role",
            "coordinator",
            "--json",
        ],
        cwd=REPO_ROOT,
        env=server_env(system.database_url, system.data_dir),
        input=PASSWORD + "\n",
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )


def attempt(server: GunicornServer, password: str) -> int:
    """Log in on a fresh connection (any worker may answer); return the status."""
    with requests.Session() as http:
        page = http.get(server.url + "/workspace/login", timeout=HTTP_TIMEOUT)
        token = _CSRF_RE.search(page.text)
        assert token, page.text[:500]
        resp = http.post(
            server.url + "/workspace/login",
            data={"email": EMAIL, "password": password, "csrf_token": token.group(1)},
            headers={"Connection": "close"},
            allow_redirects=False,
            timeout=HTTP_TIMEOUT,
        )
        return resp.status_code


def workers(server: GunicornServer) -> set[int]:
    """Return the pids of the server's workers (its group without the master)."""
    return set(live_group_members(server.pgid)) - {server.pgid}


def restart_workers(server: GunicornServer) -> None:
    """Send SIGHUP: gunicorn replaces every worker; wait until new ones serve."""
    old = workers(server)
    os.kill(server.pgid, signal.SIGHUP)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        now = workers(server)
        if len(now) == server.workers and not now & old:
            try:
                if requests.get(server.url + "/workspace/login", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
        time.sleep(0.2)
    raise AssertionError(f"workers were not replaced: {old} -> {workers(server)}")


def stored_failures(system: SystemEnv) -> int:
    """Read the account's failure count from the database."""
    engine = system.engine()
    try:
        with engine.connect() as conn:
            return int(
                conn.execute(
                    sa.text("SELECT failures FROM login_failures WHERE key = :k"),
                    {"k": f"account:{EMAIL}"},
                ).scalar_one()
            )
    finally:
        engine.dispose()


def test_failed_logins_are_shared_by_workers_and_survive_a_restart(system: SystemEnv) -> None:
    create_person(system)
    server = system.gunicorn(workers=2).start()
    # Three failures, spread over both workers by fresh connections.
    assert [attempt(server, "fel-lösenord") for _ in range(3)] == [200, 200, 200]
    assert stored_failures(system) == 3
    restart_workers(server)  # every in-memory count would be gone now
    assert attempt(server, "fel-lösenord") == 200
    assert attempt(server, "fel-lösenord") == 429  # the fifth: locked
    assert stored_failures(system) == 5
    # Locked on every worker, even with the right password.
    assert [attempt(server, PASSWORD) for _ in range(4)] == [429] * 4
    assert not server.problems()
