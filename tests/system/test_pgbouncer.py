"""pgbouncer in transaction mode in front of the app (docs/operations.md, "Several hosts").

psycopg 3 would prepare a statement on the server after five runs; a prepared statement
lives on one server connection, and pgbouncer (before 1.21) in transaction mode hands each
transaction any of them. The app switches those prepares off (server/config.py), so it
runs through pgbouncer; this test fails when they are switched on.
"""

from __future__ import annotations

import os
import threading
import uuid
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import requests

from tests.support.gunicorn import GunicornServer
from tests.support.hosts import TIMEOUT, Phone, set_up
from tests.support.pgbouncer import PGBOUNCER, pgbouncer
from tests.support.pgserver import PostgresServer
from tests.system.conftest import STOCKHOLM_WINTER, report_payload

pytestmark = pytest.mark.slow

WHEN = datetime.now(STOCKHOLM_WINTER).replace(microsecond=0) - timedelta(minutes=40)


def test_the_app_runs_through_pgbouncer_in_transaction_mode(
    pg_server: PostgresServer, pg_template: str, tmp_path: Path
) -> None:
    if not PGBOUNCER.is_file():
        reason = "no /usr/sbin/pgbouncer (apt-get install pgbouncer)"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip("SKIPPING THE PGBOUNCER TEST: " + reason)
    name = f"lb_bouncer_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    pg_server.create_database(name, template=pg_template)
    try:
        setup = set_up(pg_server.url(name), tmp_path / "setup", devices=4)
        with pgbouncer(pg_server) as base:
            server = GunicornServer(
                f"{base}/{name}", tmp_path / "host", tmp_path / "host.log", workers=2
            )
            with server:
                phones = [Phone(n, o, t, server.url, True) for n, o, t in setup.phones]
                problems: list[str] = []

                def busy(phone: Phone) -> None:
                    # The same statements many times over: psycopg would prepare them
                    # after 5 runs, and a prepared statement lives on one server connection.
                    with requests.Session() as http:
                        for k in range(8):
                            batch = [report_payload(str(uuid.uuid4()), f"{phone.name}-{k}", WHEN)]
                            resp = http.post(
                                server.url + "/api/v1/sync/push",
                                json={"reports": batch},
                                headers=phone.auth,
                                timeout=TIMEOUT,
                            )
                            if resp.status_code != 200:
                                problems.append(f"push {resp.status_code}: {resp.text[:200]}")
                            phone.pushed += [r["id"] for r in batch]
                            phone.pull_all(http, problems)

                threads = [threading.Thread(target=busy, args=(p,)) for p in phones]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join(timeout=60)
                assert problems == []
                for phone in phones:
                    assert phone.pulled == set(phone.pushed)
            assert server.problems() == [], server.log_tail()
    finally:
        pg_server.drop_database(name)
