"""Start and stop a real gunicorn server (deploy/gunicorn.conf.py) for system tests.

The server runs in its own process group (``start_new_session=True``) so a test can kill
the master and every worker at once with SIGKILL, like an OOM kill or a crashed host
process (not a power cut: the kernel's page cache survives). All of its output goes to a
log file; ``log_tail()`` is meant for failure messages and ``problems()`` finds 5xx
answers, lock errors and tracebacks in it.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

REPO_ROOT = Path(__file__).resolve().parents[2]
GUNICORN_CONF = REPO_ROOT / "deploy" / "gunicorn.conf.py"
# Unauthenticated, answers 401 without touching the database: proves a worker is serving.
READY_PATH = "/api/v1/categories"
TEST_SECRET_KEY = "system-test-secret-key"
# Log lines that mean the server misbehaved: a 5xx in the access log (format of
# deploy/gunicorn.conf.py: '%(h)s "%(m)s %(U)s" %(s)s ...'), a lock error, a traceback.
_ACCESS_5XX = re.compile(r'^\S+ "[A-Z]+ [^"]*" 5\d\d ', re.MULTILINE)
_BAD_LOG_MARKERS = (
    "database is locked",
    "Traceback",
    "WORKER TIMEOUT",
    "Internal Server Error",
    "Exception on /",
)


class GunicornError(RuntimeError):
    """The server could not be started or stopped."""


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _isolation_args() -> list[str]:
    """Return gunicorn options that keep parallel test servers apart.

    Recent gunicorn opens a control socket at one fixed path per user
    (~/.gunicorn/gunicorn.ctl); parallel servers, and the stale socket a SIGKILL leaves,
    must not share it. Older gunicorn has no such socket and no such option.
    """
    from gunicorn.config import KNOWN_SETTINGS

    if any(s.name == "control_socket_disable" for s in KNOWN_SETTINGS):
        return ["--no-control-socket"]
    return []


def server_env(database_url: str, data_dir: Path, **extra: str) -> dict[str, str]:
    """Return the environment for gunicorn and the `lagesbild` CLI on one database."""
    env = dict(os.environ)
    # Extra gunicorn options from the caller's shell would change what is under test.
    env.pop("GUNICORN_CMD_ARGS", None)
    env.update(
        {
            "DATABASE_URL": database_url,
            "LAGESBILD_DATA_DIR": str(data_dir),
            "SECRET_KEY": TEST_SECRET_KEY,
            "LAGESBILD_ENV": "testing",
            # Testing groups inline by default; real servers run the background pass, and
            # so does every system test (a test may still ask for another mode).
            "LAGESBILD_GROUPING": "background",
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(extra)
    return env


def live_group_members(pgid: int) -> list[int]:
    """Return the pids of processes in group `pgid` that are not zombies (Linux /proc)."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        # Fields after the parenthesised command: state, ppid, pgrp, ...
        fields = text[text.rfind(")") + 2 :].split()
        if len(fields) > 2 and int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
            members.append(int(stat.parent.name))
    return members


class GunicornServer:
    """One gunicorn master and its workers, serving the app on 127.0.0.1."""

    def __init__(
        self,
        database_url: str,
        data_dir: Path,
        log_path: Path,
        *,
        workers: int = 2,
        port: int | None = None,
        extra_env: dict[str, str] | None = None,
    ) -> None:
        self.database_url = database_url
        self.data_dir = Path(data_dir)
        self.log_path = Path(log_path)
        self.workers = workers
        self.preferred_port = port
        self.extra_env = dict(extra_env or {})
        self.port: int | None = None
        self.proc: subprocess.Popen[bytes] | None = None
        self._log_offset = 0  # where this run's output starts in the (appended) log file

    # -- lifecycle ------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """Return the base URL, e.g. http://127.0.0.1:41234."""
        if self.port is None:
            raise GunicornError("server not started")
        return f"http://127.0.0.1:{self.port}"

    @property
    def pgid(self) -> int:
        """Return the process group id of master and workers."""
        if self.proc is None:
            raise GunicornError("server not started")
        return self.proc.pid  # start_new_session: the master leads its own group

    def start(self, timeout: float = 30.0) -> GunicornServer:
        """Start gunicorn and wait until a worker answers; retry on a port race."""
        if self.proc is not None and self.proc.poll() is None:
            raise GunicornError("server already running")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        last_error = ""
        for attempt in range(3):
            # A restart first tries the port of the previous run, so clients keep their URL.
            wanted = self.preferred_port or self.port
            port = wanted if attempt == 0 and wanted else free_port()
            self._spawn(port)
            try:
                self._wait_ready(timeout)
                return self
            except GunicornError as exc:
                last_error = str(exc)
                in_use = "Address already in use" in self.log_tail(20)
                self.kill()
                if not in_use:
                    break
        raise GunicornError(f"gunicorn did not start: {last_error}\n{self.log_tail()}")

    def _spawn(self, port: int) -> None:
        self.port = port
        env = server_env(
            self.database_url,
            self.data_dir,
            LAGESBILD_BIND=f"127.0.0.1:{port}",
            LAGESBILD_WORKERS=str(self.workers),
            LAGESBILD_BASE_URL=f"http://127.0.0.1:{port}",
            # problems() reads the access log and the error log from this run's log file.
            LAGESBILD_ACCESS_LOG="-",
            LAGESBILD_LOG_LEVEL="info",
            **self.extra_env,
        )
        with self.log_path.open("ab") as log:
            self._log_offset = log.tell()
            log.write(f"===== gunicorn start on port {port} ({time.ctime()}) =====\n".encode())
            log.flush()
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "-c",
                    str(GUNICORN_CONF),
                    *_isolation_args(),
                    "server.wsgi:app",
                ],
                cwd=REPO_ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise GunicornError(f"gunicorn exited with code {self.proc.returncode}")
            # Our master must have bound the port: another program may answer on it.
            listening = f"Listening at: {self.url} ({self.proc.pid})" in self._run_log()
            with contextlib.suppress(requests.RequestException):
                if listening and requests.get(self.url + READY_PATH, timeout=2).status_code < 500:
                    return
            time.sleep(0.1)
        raise GunicornError(f"no answer on {self.url} within {timeout:.0f} s")

    def kill(self) -> None:
        """SIGKILL master and workers (the whole process group) and reap the master."""
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pgid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=10)
        self._wait_group_gone(timeout=10)

    def stop(self, timeout: float = 15.0) -> None:
        """Stop gracefully (SIGTERM to the group), falling back to SIGKILL."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.pgid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=timeout)
        self.kill()

    def _wait_group_gone(self, timeout: float) -> None:
        """Wait until no live process of the group is left (zombies do not count)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not live_group_members(self.pgid):
                return
            time.sleep(0.05)
        raise GunicornError(f"process group {self.pgid} still alive after SIGKILL")

    def __enter__(self) -> GunicornServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- logs -----------------------------------------------------------------------------

    def log_text(self) -> str:
        """Return the whole log of every run of this server."""
        if not self.log_path.exists():
            return ""
        return self.log_path.read_text(errors="replace")

    def _run_log(self) -> str:
        """Return the log of the current run only."""
        if not self.log_path.exists():
            return ""
        with self.log_path.open("rb") as fh:
            fh.seek(self._log_offset)
            return fh.read().decode(errors="replace")

    def log_tail(self, lines: int = 60) -> str:
        """Return the last lines of the log, framed for an assertion message."""
        tail = self.log_text().splitlines()[-lines:]
        if not tail:
            return f"(gunicorn log {self.log_path} is empty)"
        return "\n".join([f"--- gunicorn log tail ({self.log_path}) ---", *tail])

    def problems(self) -> list[str]:
        """Return the log lines that show a 5xx answer, a lock error or a traceback."""
        text = self.log_text()
        bad = [m.group(0) for m in _ACCESS_5XX.finditer(text)]
        bad += [line for line in text.splitlines() if any(k in line for k in _BAD_LOG_MARKERS)]
        return bad
