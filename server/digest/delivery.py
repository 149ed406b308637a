"""Mail delivery: build the digest's e-mail and hand it to the SMTP server over STARTTLS.

Flask-free apart from `SmtpConfig.from_config`, which reads an app's config mapping. The
message is multipart/alternative (text/plain, then a multipart/related holding the
text/html part and its inline images by Content-ID). Its Message-ID is derived from the
run (organisation, kind, day), so a duplicate that slips through can be recognised by a
mail client or an archive.
"""

from __future__ import annotations

import base64
import contextlib
import logging
import smtplib
import ssl
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any, Protocol
from urllib.parse import urlsplit

log = logging.getLogger("lagesbild.digest")
MAX_ERROR = 300


class DeliveryError(RuntimeError):
    """The message was not accepted; `str()` is short and holds no secret."""


class InlineImageLike(Protocol):
    """An image referenced from the HTML as `cid:<cid>`."""

    cid: str
    content_type: str
    data: bytes


class RenderedLike(Protocol):
    """What server.digest.render returns (subject, html, text, inline images)."""

    subject: str
    html: str
    text: str
    images: Sequence[InlineImageLike]


@dataclass(frozen=True)
class SmtpConfig:
    """Where and how to hand mail over; read from the app config (see server.config)."""

    host: str | None
    port: int = 587
    username: str | None = None
    password: str | None = None
    starttls: bool = True
    timeout: float = 30.0
    ca_file: str | None = None
    mail_from: str | None = None

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> SmtpConfig:
        """Read SMTP_* and MAIL_FROM from a Flask config."""
        return cls(
            host=config.get("SMTP_HOST") or None,
            port=int(config.get("SMTP_PORT") or 587),
            username=config.get("SMTP_USERNAME") or None,
            password=config.get("SMTP_PASSWORD") or None,
            starttls=bool(config.get("SMTP_STARTTLS", True)),
            timeout=float(config.get("SMTP_TIMEOUT") or 30),
            ca_file=config.get("SMTP_CA_FILE") or None,
            mail_from=config.get("MAIL_FROM") or None,
        )

    def problem(self) -> str | None:
        """Say what keeps this configuration from sending, or None when it can."""
        if not self.host:
            return "SMTP_HOST is not set"
        if not self.mail_from:
            return "MAIL_FROM is not set"
        if self.username and not self.password:
            return "SMTP_USERNAME is set but SMTP_PASSWORD is not"
        return None


def message_id(org_id: int, kind: str, day: date, base_url: str, resend: int = 0) -> str:
    """Return the run's Message-ID: the same for every attempt of one run.

    A forced resend gets its own (`.r1`, `.r2` …): it is meant to arrive again.
    """
    host = urlsplit(base_url).hostname or "lagesbild.invalid"
    suffix = f".r{resend}" if resend else ""
    return f"<digest-{org_id}-{kind}-{day:%Y%m%d}{suffix}@{host}>"


def build_message(
    rendered: RenderedLike,
    *,
    sender: str,
    recipients: Iterable[str],
    msg_id: str,
    when: datetime | None = None,
) -> EmailMessage:
    """Assemble the e-mail: alternative(text/plain, related(text/html, images…))."""
    to = [r for r in recipients if r]
    if not to:
        raise DeliveryError("no recipients")
    msg = EmailMessage()
    msg["Subject"] = rendered.subject
    msg["From"] = sender
    msg["To"] = ", ".join(to)
    msg["Date"] = format_datetime(when or datetime.now(UTC))
    msg["Message-ID"] = msg_id
    # An automatic message: no out-of-office replies, please (RFC 3834).
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(rendered.text, subtype="plain", charset="utf-8")
    msg.add_alternative(rendered.html, subtype="html", charset="utf-8")
    if rendered.images:
        html_part = msg.get_payload()[1]
        for image in rendered.images:
            maintype, _, subtype = image.content_type.partition("/")
            cid = image.cid.strip("<>")
            html_part.add_related(
                image.data,
                maintype=maintype,
                subtype=subtype or "octet-stream",
                cid=f"<{cid}>",
                disposition="inline",
                filename=f"{cid.split('@')[0]}.{subtype.split('+')[0] or 'bin'}",
            )
    return msg


def envelope_sender(sender: str) -> str:
    """Return the bare address of a From header such as 'Lägesbild <no-reply@x.se>'."""
    try:
        parsed = EmailMessage()
        parsed["From"] = sender
        addresses: tuple[Address, ...] = parsed["From"].addresses
        return addresses[0].addr_spec if addresses else sender
    except (ValueError, IndexError):
        return sender


def tls_context(config: SmtpConfig) -> ssl.SSLContext:
    """Return a verifying TLS context (system CAs, plus SMTP_CA_FILE when set)."""
    context = ssl.create_default_context()
    if config.ca_file:
        context.load_verify_locations(cafile=config.ca_file)
    return context


def send(config: SmtpConfig, msg: EmailMessage, recipients: Sequence[str]) -> dict[str, Any]:
    """Hand the message to the SMTP server; return the recipients it refused (if some were not).

    With SMTP_STARTTLS on (the default) the session is upgraded before anything else is
    said, and a server that does not offer STARTTLS is refused: credentials never travel
    in the clear. Credentials without TLS only with SMTP_STARTTLS=false, set explicitly.
    """
    problem = config.problem()
    if problem:
        raise DeliveryError(problem)
    assert config.host is not None and config.mail_from is not None
    try:
        # Not `with SMTP(...)`: its exit raises on an error answer to QUIT, after the server
        # had already accepted the message, and the digest would be sent again.
        connection = smtplib.SMTP(config.host, config.port, timeout=config.timeout)
        with contextlib.closing(connection) as smtp:
            smtp.ehlo()
            if config.starttls:
                if not smtp.has_extn("starttls"):
                    raise DeliveryError("the SMTP server does not offer STARTTLS; nothing was sent")
                smtp.starttls(context=tls_context(config))
                smtp.ehlo()
            if config.username:
                assert config.password is not None
                login(smtp, config.username, config.password)
            refused = smtp.send_message(
                msg, from_addr=envelope_sender(config.mail_from), to_addrs=list(recipients)
            )
            say_goodbye(smtp)
    except DeliveryError:
        raise
    except smtplib.SMTPRecipientsRefused as exc:
        raise DeliveryError(_short(f"all recipients refused: {_codes(exc.recipients)}")) from None
    except smtplib.SMTPResponseException as exc:
        raw = exc.smtp_error
        text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
        raise DeliveryError(
            _short(f"{type(exc).__name__}: {exc.smtp_code} {text}", config)
        ) from None
    except (smtplib.SMTPException, ssl.SSLError, OSError) as exc:
        raise DeliveryError(_short(f"{type(exc).__name__}: {exc}", config)) from None
    return {str(k): v for k, v in (refused or {}).items()}


def say_goodbye(smtp: smtplib.SMTP) -> None:
    """Send QUIT after the server accepted the message; its answer no longer matters.

    With its 250 after DATA the server took responsibility for the message: an error
    answer or a lost connection at QUIT must not mark the digest failed (and resend it).
    """
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError) as exc:
        log.info("SMTP QUIT after an accepted message failed (ignored): %s", exc)


def login(smtp: smtplib.SMTP, username: str, password: str) -> None:
    """Authenticate; UTF-8 credentials (å, ä, ö) go through AUTH PLAIN (RFC 4616).

    smtplib encodes credentials as ASCII only, so a password with an ö would fail there.
    """
    if username.isascii() and password.isascii():
        smtp.login(username, password)
        return
    smtp.ehlo_or_helo_if_needed()
    if "PLAIN" not in smtp.esmtp_features.get("auth", "").upper().split():
        raise DeliveryError("the SMTP server does not offer AUTH PLAIN for UTF-8 credentials")
    token = base64.b64encode(b"\0" + username.encode() + b"\0" + password.encode()).decode()
    code, reply = smtp.docmd("AUTH", "PLAIN " + token)
    if code != 235:
        raise smtplib.SMTPAuthenticationError(code, reply)


def _codes(refused: Mapping[str, Any]) -> str:
    """Summarise refused recipients as 'addr (code)'."""
    return ", ".join(f"{addr} ({value[0] if value else '?'})" for addr, value in refused.items())


def _short(text: str, config: SmtpConfig | None = None) -> str:
    """Cut an error to one short line and blank out anything that looks like a secret."""
    line = " ".join(text.split())
    if config is not None:
        for secret in (config.password, config.username):
            if secret and len(secret) >= 4:
                line = line.replace(secret, "***")
    return line[:MAX_ERROR]
