"""Network probes for `lagesbild check`: the database and the SMTP server, with short timeouts."""

from __future__ import annotations

import smtplib
import ssl
from pathlib import Path

import psycopg
from sqlalchemy import select, text
from sqlalchemy.exc import SQLAlchemyError

from server.digest.delivery import DeliveryError, SmtpConfig, login, tls_context
from server.digest.models import DigestSettings
from server.extensions import db
from server.ops import pgtools, tables

PROBE_TIMEOUT = 10  # seconds: a check must answer even when a server never does


def _one_line(exc: BaseException) -> str:
    """Return an exception as one short line."""
    return " ".join(f"{type(exc).__name__}: {exc}".split())[:300]


def database() -> list[str]:
    """Return the database's problems: unreachable, not migrated, not at the code's head."""
    url = db.engine.url
    if url.get_backend_name() == "sqlite":
        path = Path(url.database or "")
        if not path.is_file():
            return [f"database: the SQLite file {path} does not exist; run 'lagesbild db upgrade'"]
    else:
        info, env = pgtools.conninfo_and_env(url.render_as_string(False))
        try:  # libpq would wait for ever on a silent host; connect once with a timeout
            psycopg.connect(
                info, password=env.get("PGPASSWORD"), connect_timeout=PROBE_TIMEOUT
            ).close()
        except psycopg.Error as exc:
            return [f"database: cannot connect to PostgreSQL: {_one_line(exc)}"]
    try:
        with db.engine.connect() as conn:
            current = tables.revision(conn)
    except SQLAlchemyError as exc:
        return [f"database: cannot read it: {_one_line(exc.orig or exc)}"]
    heads = tables.code_heads()
    if current is None:
        return ["database: not migrated (no schema); run 'lagesbild db upgrade'"]
    if current not in heads:
        if tables.known_revision(current):
            return [
                f"database: at migration {current}, the code expects {', '.join(heads)};"
                " run 'lagesbild db upgrade'"
            ]
        return [
            f"database: at migration {current}, unknown to this code (a newer version"
            " migrated it); run that version"
        ]
    return []


def digest_enabled() -> bool:
    """Tell whether any organisation has switched its morning digest on."""
    with db.engine.connect() as conn:
        query = select(DigestSettings.org_id).where(DigestSettings.enabled.is_(True)).limit(1)
        return conn.execute(query).first() is not None


def smtp(config: SmtpConfig) -> list[str]:
    """Connect, EHLO, STARTTLS and log in as the digest would, send nothing; return problems."""
    problem = config.problem()
    if problem:
        return [f"smtp: {problem}, but the morning digest is enabled"]
    assert config.host is not None
    timeout = min(config.timeout, PROBE_TIMEOUT)
    where = f"{config.host}:{config.port}"
    try:
        with smtplib.SMTP(config.host, config.port, timeout=timeout) as conn:
            conn.ehlo()
            if config.starttls:
                if not conn.has_extn("starttls"):
                    return [f"smtp: {where} does not offer STARTTLS (SMTP_STARTTLS is on)"]
                conn.starttls(context=tls_context(config))
                conn.ehlo()
            if config.username:
                assert config.password is not None
                login(conn, config.username, config.password)
            conn.noop()
    except smtplib.SMTPAuthenticationError as exc:
        return [f"smtp: {where} refused the login of SMTP_USERNAME ({exc.smtp_code})"]
    except (DeliveryError, smtplib.SMTPException, ssl.SSLError, OSError) as exc:
        return [f"smtp: cannot talk to {where}: {_hide(_one_line(exc), config)}"]
    return []


def _hide(line: str, config: SmtpConfig) -> str:
    """Blank out the password should a server echo it."""
    return line.replace(config.password, "***") if config.password else line


def sql_ok() -> bool:
    """Tell whether a trivial query runs (the digest lookup needs a working database)."""
    try:
        with db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except SQLAlchemyError:
        return False
    return True
