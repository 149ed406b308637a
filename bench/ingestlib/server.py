"""gunicorn with the production config file, as deploy/ runs it, and single HTTP calls."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

from bench.ingestlib.common import NOT_FOUND_PATH, ROOT, BenchError, tool
from bench.ingestlib.db import Database
from bench.ingestlib.lockstats import BASE_CONFIG, write_wrapper_config


def free_port() -> int:
    """Return a free TCP port on 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def http_call(
    port: int, method: str, path: str, body: bytes | None, headers: dict[str, str]
) -> tuple[int, bytes]:
    """Do one request on a new connection."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path, body, headers)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def enrol(port: int, code: str) -> str:
    """Exchange an enrolment code for a device token over HTTP."""
    body = json.dumps({"code": code}).encode()
    status, data = http_call(
        port, "POST", "/api/v1/enrol", body, {"Content-Type": "application/json"}
    )
    if status != 201:
        raise BenchError(f"enrol failed: {status} {data[:300]!r}")
    return str(json.loads(data)["token"])


class Gunicorn:
    """gunicorn with the production config file; `lock_stats_dir` adds the lock-timing hooks.

    `config` replaces the config file (a wrapper around it, as --cpu-split writes).
    """

    def __init__(
        self,
        db: Database,
        workers: int,
        log_path: Path,
        lock_stats_dir: Path | None = None,
        config: str | None = None,
    ) -> None:
        self.port = free_port()
        self.log_path = log_path
        self.env = dict(
            db.env,
            LAGESBILD_WORKERS=str(workers),
            LAGESBILD_ACCESS_LOG="/dev/null",
            LAGESBILD_BIND=f"127.0.0.1:{self.port}",
            LAGESBILD_LOG_LEVEL="info",  # keeps "Autorestarting worker" lines countable
        )
        if config is None:
            config = BASE_CONFIG if lock_stats_dir is None else write_wrapper_config(lock_stats_dir)
        self.cmd = [*tool("gunicorn", "gunicorn"), "-c", config, "server.wsgi:app"]
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        """Return the master's pid."""
        assert self.proc is not None, "gunicorn not started"
        return self.proc.pid

    def start(self) -> None:
        """Start the master and wait until a worker answers."""
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                self.cmd,
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise BenchError(f"gunicorn exited early:\n{self.log_tail()}")
            try:
                status, _ = http_call(self.port, "GET", NOT_FOUND_PATH, None, {})
            except (OSError, http.client.HTTPException):
                time.sleep(0.1)
                continue
            if status == 404:
                return
        raise BenchError(f"gunicorn did not answer within 60 s:\n{self.log_tail()}")

    def stop(self) -> None:
        """Stop our gunicorn master (graceful), then its process group if it lingers."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=40)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)  # our own session, started above
            self.proc.wait(timeout=10)

    def log_text(self) -> str:
        """Return gunicorn's error log."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def log_tail(self, lines: int = 30) -> str:
        """Return the end of gunicorn's error log."""
        return "\n".join(self.log_text().splitlines()[-lines:])
