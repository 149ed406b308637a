"""A real SMTP server for the tests: aiosmtpd on 127.0.0.1 with STARTTLS and AUTH.

The certificate is self-signed, made for the session with `openssl req` (the venv has no
`cryptography`); the client trusts it through SMTP_CA_FILE, as production trusts a
private CA. Import the fixtures into a test module:
`from tests.support.smtp import smtp_cert_fixture, smtp_server_fixture  # noqa: F401`
(the fixtures are named `smtp_cert`, `smtp_server` and `plain_smtp_server`).
"""

from __future__ import annotations

import email
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

USERNAME = "lagesbild"
PASSWORD = "smtp-hemligt-lösen-42"
MAIL_FROM = "Lägesbild <digest@lagesbild.test>"


@dataclass(frozen=True)
class Cert:
    """A self-signed certificate for 127.0.0.1 and localhost."""

    cert: Path
    key: Path


def make_cert(folder: Path) -> Cert:
    """Create a self-signed certificate valid for a day (openssl req)."""
    cert, key = folder / "smtp-cert.pem", folder / "smtp-key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost,IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return Cert(cert, key)


@dataclass
class Received:
    """One message the server accepted."""

    mail_from: str
    rcpt_tos: list[str]
    raw: bytes
    tls: bool
    login: str | None

    @property
    def message(self) -> EmailMessage:
        """Parse the message with the modern e-mail policy."""
        parsed = email.message_from_bytes(self.raw, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class AuthAttempt:
    """An AUTH command the server saw: whether the session was encrypted, who it was."""

    mechanism: str
    tls: bool
    login: str | None


class Handler:
    """Record accepted messages; answer 451 to the next `refuse_next` DATA commands."""

    def __init__(self) -> None:
        self.messages: list[Received] = []
        self.refused = 0
        self.refuse_next = 0
        self._lock = threading.Lock()

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        """Accept (or refuse once) a message."""
        with self._lock:
            if self.refuse_next > 0:
                self.refuse_next -= 1
                self.refused += 1
                return "451 4.3.0 Mailbox temporarily unavailable, try again later"
            login = session.auth_data if session.authenticated else None
            self.messages.append(
                Received(
                    mail_from=str(envelope.mail_from),
                    rcpt_tos=list(envelope.rcpt_tos),
                    raw=bytes(envelope.original_content or envelope.content or b""),
                    tls=session.ssl is not None,
                    login=login,
                )
            )
        return "250 2.0.0 OK queued"


class Authenticator:
    """Accept USERNAME/PASSWORD; record every attempt (and whether it was encrypted)."""

    def __init__(self) -> None:
        self.attempts: list[AuthAttempt] = []

    def __call__(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        """Check a login."""
        login = None
        ok = False
        if isinstance(auth_data, LoginPassword):
            login = auth_data.login.decode()
            ok = login == USERNAME and auth_data.password.decode() == PASSWORD
        self.attempts.append(AuthAttempt(mechanism, session.ssl is not None, login))
        return AuthResult(success=ok, handled=False, auth_data=login if ok else None)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class SmtpServer:
    """An aiosmtpd server on 127.0.0.1; `tls=False` offers no STARTTLS (and allows AUTH)."""

    cert: Cert
    tls: bool = True
    handler: Handler = field(default_factory=Handler)
    authenticator: Authenticator = field(default_factory=Authenticator)
    port: int = 0
    _controller: Controller | None = None

    def start(self) -> SmtpServer:
        """Start listening."""
        context = None
        if self.tls:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(self.cert.cert, self.cert.key)
        self.port = _free_port()
        self._controller = Controller(
            self.handler,
            hostname="127.0.0.1",
            port=self.port,
            server_hostname="localhost",
            tls_context=context,
            require_starttls=self.tls,
            authenticator=self.authenticator,
            auth_required=True,
            # Without TLS the server would take a password in the clear: the client must
            # be the one that refuses.
            auth_require_tls=self.tls,
        )
        self._controller.start()
        return self

    def stop(self) -> None:
        """Stop listening."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    @property
    def messages(self) -> list[Received]:
        """The messages accepted so far."""
        return self.handler.messages

    def app_config(self, **overrides: Any) -> dict[str, Any]:
        """Return the app config that sends through this server."""
        config: dict[str, Any] = {
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": self.port,
            "SMTP_USERNAME": USERNAME,
            "SMTP_PASSWORD": PASSWORD,
            "SMTP_STARTTLS": True,
            "SMTP_TIMEOUT": 10,
            "SMTP_CA_FILE": str(self.cert.cert),
            "MAIL_FROM": MAIL_FROM,
        }
        config.update(overrides)
        return config

    def wait_for(self, count: int, timeout: float = 5.0) -> list[Received]:
        """Wait until at least `count` messages arrived (handy after a background send)."""
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.messages


@pytest.fixture(scope="session", name="smtp_cert")
def smtp_cert_fixture(tmp_path_factory: pytest.TempPathFactory) -> Cert:
    """Make the test certificate once per session."""
    return make_cert(tmp_path_factory.mktemp("smtp-cert"))


@pytest.fixture(name="smtp_server")
def smtp_server_fixture(smtp_cert: Cert) -> Iterator[SmtpServer]:
    """Start an SMTP server with STARTTLS and AUTH for one test."""
    server = SmtpServer(smtp_cert).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(name="plain_smtp_server")
def plain_smtp_server_fixture(smtp_cert: Cert) -> Iterator[SmtpServer]:
    """Start an SMTP server that offers no STARTTLS but would take a password in clear."""
    server = SmtpServer(smtp_cert, tls=False).start()
    try:
        yield server
    finally:
        server.stop()
