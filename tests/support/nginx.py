"""Run deploy/nginx/lagesbild.conf with Debian's nginx on loopback, for the deployment test.

The site file is used as it is, with only its installation-specific values replaced
(ports, paths, the certificate, the app's address); every replacement must hit, so the
test notices when the file changes under it. nginx runs in the foreground from a temp dir
(`nginx -p DIR -c DIR/nginx.conf -e DIR/error.log -g 'daemon off;'`) and never as root:
under a root test run it runs as `nobody` in group 0 (the group of the app's files), as
www-data in the group `lagesbild` does in production, so it reads the photo files (0640)
only through the group.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from tests.support.gunicorn import REPO_ROOT, free_port

NGINX = Path("/usr/sbin/nginx")
SITE = REPO_ROOT / "deploy" / "nginx" / "lagesbild.conf"
CERT_DIR = "/etc/letsencrypt/live/lagesbild.example.se"


def _unprivileged() -> int:
    """Return the uid nginx runs as under a root test run."""
    return pwd.getpwnam("nobody").pw_uid


class NginxError(RuntimeError):
    """nginx could not be configured or started."""


def make_certificate(directory: Path) -> Path:
    """Make a self-signed certificate for 127.0.0.1 and localhost; return its file."""
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-subj", "/CN=localhost",
            "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
            "-keyout", str(directory / "privkey.pem"), "-out", str(directory / "fullchain.pem"),
        ],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return directory / "fullchain.pem"


def render_site(text: str, replacements: dict[str, str]) -> str:
    """Replace each installation value in the site file; fail when one is not found."""
    for old, new in replacements.items():
        if old not in text:
            raise NginxError(f"{SITE.name} no longer contains {old!r}; update the test")
        text = text.replace(old, new)
    return text


class NginxServer:
    """The site file in front of app addresses, over TLS and plain http on loopback.

    Several addresses make the site's upstream a group of servers (hosts), which nginx
    takes turns with (round robin), as a site in front of several hosts would list them.
    """

    def __init__(self, app_address: str | Sequence[str], data_dir: Path) -> None:
        # Not under pytest's tmp_path (0700): nginx's workers must traverse to the files.
        self.dir = Path(tempfile.mkdtemp(prefix="lagesbild-nginx-"))
        self.dir.chmod(0o755)
        self.app_addresses = [app_address] if isinstance(app_address, str) else list(app_address)
        self.data_dir = data_dir
        self.https_port = free_port()
        self.http_port = free_port()
        try:
            self.cert = make_certificate(self.dir)
        except BaseException:
            shutil.rmtree(self.dir, ignore_errors=True)
            raise
        # Root hands the directory (certificate key, logs, temp files) to nginx's user.
        self.as_user = _unprivileged() if os.geteuid() == 0 else None
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """Return the https base URL."""
        return f"https://127.0.0.1:{self.https_port}"

    @property
    def http_url(self) -> str:
        """Return the plain http base URL."""
        return f"http://127.0.0.1:{self.http_port}"

    def write_config(self) -> Path:
        """Render the site and a main configuration around it; return the main file."""
        (self.dir / "acme").mkdir(exist_ok=True)
        site = render_site(
            SITE.read_text(encoding="utf-8"),
            {
                # No IPv6 on loopback in every container.
                "    listen [::]:80;\n": "",
                "    listen [::]:443 ssl http2;\n": "",
                "listen 80;": f"listen 127.0.0.1:{self.http_port};",
                "listen 443 ssl http2;": f"listen 127.0.0.1:{self.https_port} ssl http2;",
                CERT_DIR: str(self.dir),
                "/var/www/letsencrypt": str(self.dir / "acme"),
                "server 127.0.0.1:5000;": "\n    ".join(
                    f"server {address};" for address in self.app_addresses
                ),
                "/var/lib/lagesbild/": f"{self.data_dir}/",
                "/opt/lagesbild/": f"{REPO_ROOT}/",
            },
        )
        (self.dir / "site.conf").write_text(site, encoding="utf-8")
        temp = "\n".join(
            f"    {kind}_temp_path {self.dir / 'tmp' / kind};"
            for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        main = self.dir / "nginx.conf"
        main.write_text(
            "worker_processes 1;\n"
            f"error_log {self.dir / 'error.log'} warn;\n"
            "events { worker_connections 128; }\n"
            "http {\n"
            "    include /etc/nginx/mime.types;\n"
            "    default_type application/octet-stream;\n"
            f"    access_log {self.dir / 'access.log'};\n"
            f"{temp}\n"
            f"    include {self.dir / 'site.conf'};\n"
            "}\n",
            encoding="utf-8",
        )
        (self.dir / "tmp").mkdir(exist_ok=True)
        if self.as_user is not None:
            for path in (self.dir, *self.dir.rglob("*")):
                os.chown(path, self.as_user, 0)
        return main

    def _command(self, *extra: str) -> list[str]:
        """Return the nginx command line for this directory."""
        # As root: uid nobody, gid 0, no supplementary groups, no way back.
        drop = ["setpriv", f"--reuid={self.as_user}", "--regid=0", "--clear-groups"]
        return [
            *(drop if self.as_user is not None else []),
            str(NGINX),
            "-p", str(self.dir),
            "-c", str(self.dir / "nginx.conf"),
            "-e", str(self.dir / "error.log"),
            *extra,
        ]  # fmt: skip

    def check(self) -> str:
        """Run `nginx -t` on the rendered configuration; return its output."""
        self.write_config()
        result = subprocess.run(
            self._command("-t", "-g", f"pid {self.dir / 'check.pid'};"),
            capture_output=True,
            text=True,
            timeout=30,
        )
        if result.returncode != 0:
            raise NginxError(f"nginx -t failed:\n{result.stderr}")
        return result.stderr

    def start(self, timeout: float = 15.0) -> NginxServer:
        """Start nginx in the foreground and wait until it accepts connections."""
        self.check()
        log = (self.dir / "stdout.log").open("ab")
        self.proc = subprocess.Popen(
            self._command("-g", f"daemon off; pid {self.dir / 'nginx.pid'};"),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise NginxError(f"nginx exited with {self.proc.returncode}\n{self.log_tail()}")
            with contextlib.suppress(OSError):
                socket.create_connection(("127.0.0.1", self.https_port), timeout=1).close()
                return self
            time.sleep(0.05)
        raise NginxError(f"nginx did not listen within {timeout:.0f} s\n{self.log_tail()}")

    def log_tail(self, lines: int = 30) -> str:
        """Return the end of nginx's error log, for assertion messages."""
        path = self.dir / "error.log"
        tail = path.read_text(errors="replace").splitlines()[-lines:] if path.exists() else []
        return "\n".join(["--- nginx error log ---", *tail])

    def stop(self) -> None:
        """Stop nginx (its own quick shutdown, then SIGKILL) and delete its directory."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()  # SIGTERM: nginx's fast shutdown, the workers with it
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, 9)
                self.proc.wait(timeout=10)
        shutil.rmtree(self.dir, ignore_errors=True)
