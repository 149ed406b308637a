"""pgbouncer (Debian's /usr/sbin/pgbouncer) in transaction mode in front of a test PostgreSQL."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.support.gunicorn import free_port
from tests.support.pgserver import PostgresServer

PGBOUNCER = Path("/usr/sbin/pgbouncer")


@contextmanager
def pgbouncer(pg: PostgresServer) -> Iterator[str]:
    """Run pgbouncer in transaction mode in front of `pg`; yield its SQLAlchemy URL base."""
    folder = Path(tempfile.mkdtemp(prefix="lagesbild-pgbouncer-"))
    folder.chmod(0o755)
    port = free_port()
    (folder / "users.txt").write_text('"postgres" ""\n')
    (folder / "pgbouncer.ini").write_text(
        "[databases]\n"
        f"* = host=127.0.0.1 port={pg.port}\n"
        "[pgbouncer]\n"
        f"listen_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n"
        f"auth_type = trust\nauth_file = {folder / 'users.txt'}\n"
        # Fewer server connections than clients: a transaction lands on any of them.
        "pool_mode = transaction\ndefault_pool_size = 3\nmax_client_conn = 100\n"
        f"logfile = {folder / 'pgbouncer.log'}\npidfile = {folder / 'pgbouncer.pid'}\n"
    )
    # pgbouncer refuses to run as root: as root, run it as nobody.
    drop = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]
    command = [*(drop if os.geteuid() == 0 else []), str(PGBOUNCER), str(folder / "pgbouncer.ini")]
    if os.geteuid() == 0:
        shutil.chown(folder, "nobody")
        for path in folder.iterdir():
            shutil.chown(path, "nobody")
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline, (
                    folder / "pgbouncer.log"
                ).read_text(errors="replace")
                time.sleep(0.05)
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        shutil.rmtree(folder, ignore_errors=True)
