"""Configuration read from the environment with explicit types."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

ENVIRONMENTS = ("development", "testing", "production")
# A workspace login lasts one working day at most (a night shift plus the morning).
SESSION_HOURS = 12


class ConfigError(RuntimeError):
    """Raised when the environment holds an unusable setting."""


def _int(name: str, default: int) -> int:
    """Read an integer setting."""
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from exc


def _str(name: str, default: str) -> str:
    """Read a string setting."""
    raw = os.environ.get(name)
    return default if raw is None or raw == "" else raw


def _opt_str(name: str) -> str | None:
    """Read an optional string setting (unset or empty → None)."""
    return os.environ.get(name) or None


_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


def _bool(name: str, default: bool | None) -> bool | None:
    """Read a boolean setting (1/true/yes/on or 0/false/no/off)."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigError(f"{name} must be true or false, got {raw!r}")


@dataclass(frozen=True)
class Settings:
    """Typed settings; every field maps to one environment variable."""

    env: str  # LAGESBILD_ENV: development | production | testing
    database_url: str | None  # DATABASE_URL
    data_dir: str | None  # LAGESBILD_DATA_DIR
    secret_key: str | None  # SECRET_KEY
    base_url: str  # LAGESBILD_BASE_URL
    enrol_code_ttl_hours: int  # LAGESBILD_ENROL_CODE_TTL_HOURS
    max_batch_reports: int  # LAGESBILD_MAX_BATCH_REPORTS
    max_push_bytes: int  # LAGESBILD_MAX_PUSH_BYTES
    max_photo_bytes: int  # LAGESBILD_MAX_PHOTO_BYTES
    max_photo_pixels: int  # LAGESBILD_MAX_PHOTO_PIXELS
    future_skew_hours: int  # LAGESBILD_FUTURE_SKEW_HOURS
    sqlite_busy_timeout_ms: int  # LAGESBILD_SQLITE_BUSY_TIMEOUT_MS
    pull_page_size: int  # LAGESBILD_PULL_PAGE_SIZE
    grouping_rules_file: str | None  # LAGESBILD_GROUPING_RULES: JSON over the default rules
    # The morning digest's mail (server.digest.delivery); no secret has a default.
    smtp_host: str | None  # SMTP_HOST (unset: digests fail visibly with "not configured")
    smtp_port: int  # SMTP_PORT
    smtp_username: str | None  # SMTP_USERNAME (unset: no AUTH)
    smtp_password: str | None  # SMTP_PASSWORD
    smtp_starttls: bool  # SMTP_STARTTLS (false only for a trusted local relay)
    smtp_timeout: int  # SMTP_TIMEOUT, seconds per network operation
    smtp_ca_file: str | None  # SMTP_CA_FILE: extra CA bundle (a private or test CA)
    mail_from: str | None  # MAIL_FROM
    # LAGESBILD_DIGEST_SCHEDULER: None → on in production and development, off in testing.
    digest_scheduler: bool | None

    @classmethod
    def from_env(cls) -> Settings:
        """Build settings from os.environ."""
        return cls(
            env=_str("LAGESBILD_ENV", "production"),
            database_url=os.environ.get("DATABASE_URL") or None,
            data_dir=os.environ.get("LAGESBILD_DATA_DIR") or None,
            secret_key=os.environ.get("SECRET_KEY") or None,
            base_url=_str("LAGESBILD_BASE_URL", "http://127.0.0.1:5000").rstrip("/"),
            enrol_code_ttl_hours=_int("LAGESBILD_ENROL_CODE_TTL_HOURS", 24),
            max_batch_reports=_int("LAGESBILD_MAX_BATCH_REPORTS", 500),
            max_push_bytes=_int("LAGESBILD_MAX_PUSH_BYTES", 5 * 1024 * 1024),
            max_photo_bytes=_int("LAGESBILD_MAX_PHOTO_BYTES", 15 * 1024 * 1024),
            # 24 MP: twice a phone photo; decoding one costs about 100 MB per worker.
            max_photo_pixels=_int("LAGESBILD_MAX_PHOTO_PIXELS", 24_000_000),
            grouping_rules_file=_opt_str("LAGESBILD_GROUPING_RULES"),
            future_skew_hours=_int("LAGESBILD_FUTURE_SKEW_HOURS", 24),
            sqlite_busy_timeout_ms=_int("LAGESBILD_SQLITE_BUSY_TIMEOUT_MS", 30_000),
            pull_page_size=_int("LAGESBILD_PULL_PAGE_SIZE", 500),
            smtp_host=_opt_str("SMTP_HOST"),
            smtp_port=_int("SMTP_PORT", 587),
            smtp_username=_opt_str("SMTP_USERNAME"),
            smtp_password=_opt_str("SMTP_PASSWORD"),
            smtp_starttls=bool(_bool("SMTP_STARTTLS", True)),
            smtp_timeout=_int("SMTP_TIMEOUT", 30),
            smtp_ca_file=_opt_str("SMTP_CA_FILE"),
            mail_from=_opt_str("MAIL_FROM"),
            digest_scheduler=_bool("LAGESBILD_DIGEST_SCHEDULER", None),
        )


def flask_config(settings: Settings, instance_path: str) -> dict[str, object]:
    """Translate settings into Flask config keys, applying instance-folder defaults."""
    instance = Path(instance_path)
    database_url = settings.database_url or f"sqlite:///{instance / 'lagesbild.sqlite3'}"
    if database_url.startswith("postgres://"):
        # Heroku-style URLs; SQLAlchemy wants an explicit driver.
        database_url = "postgresql+psycopg://" + database_url.removeprefix("postgres://")
    elif database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url.removeprefix("postgresql://")
    if settings.env not in ENVIRONMENTS:
        raise ConfigError(
            f"LAGESBILD_ENV must be one of {', '.join(ENVIRONMENTS)}, got {settings.env!r}"
        )
    secret = settings.secret_key
    if secret is None:
        if settings.env == "production":
            raise ConfigError("SECRET_KEY must be set outside development (LAGESBILD_ENV)")
        secret = _dev_secret(instance)
    return {
        "LAGESBILD_ENV": settings.env,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": engine_options(database_url),
        "DATA_DIR": settings.data_dir or str(instance / "data"),
        "SECRET_KEY": secret,
        "BASE_URL": settings.base_url,
        "ENROL_CODE_TTL_HOURS": settings.enrol_code_ttl_hours,
        "MAX_BATCH_REPORTS": settings.max_batch_reports,
        "MAX_PUSH_BYTES": settings.max_push_bytes,
        "MAX_PHOTO_BYTES": settings.max_photo_bytes,
        "MAX_PHOTO_PIXELS": settings.max_photo_pixels,
        "FUTURE_SKEW_HOURS": settings.future_skew_hours,
        "SQLITE_BUSY_TIMEOUT_MS": settings.sqlite_busy_timeout_ms,
        "PULL_PAGE_SIZE": settings.pull_page_size,
        "GROUPING_RULES_FILE": settings.grouping_rules_file,
        "SMTP_HOST": settings.smtp_host,
        "SMTP_PORT": settings.smtp_port,
        "SMTP_USERNAME": settings.smtp_username,
        "SMTP_PASSWORD": settings.smtp_password,
        "SMTP_STARTTLS": settings.smtp_starttls,
        "SMTP_TIMEOUT": settings.smtp_timeout,
        "SMTP_CA_FILE": settings.smtp_ca_file,
        "MAIL_FROM": settings.mail_from,
        # Every worker of every host runs the digest job; a lease in the database makes
        # each digest go out once (server.digest.scheduler). Tests call tick() themselves.
        "DIGEST_SCHEDULER": (
            settings.digest_scheduler
            if settings.digest_scheduler is not None
            else settings.env != "testing"
        ),
        # A backstop only: the API views read bodies through server.http.read_body with
        # their own limits, and need to see one byte beyond them to answer 413.
        "MAX_CONTENT_LENGTH": max(settings.max_push_bytes, settings.max_photo_bytes) + 1,
        "JSON_SORT_KEYS": False,
        # The coordinator workspace's login session: never readable from scripts, not sent
        # on cross-site subrequests, and only over HTTPS in production.
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": settings.env == "production",
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=SESSION_HOURS),
        # Its CSRF tokens (Flask-WTF): the workspace checks them itself (the device API uses
        # bearer tokens, no cookies), a token lives as long as the session, and no Referer
        # check (a proxy that passes another Host would refuse every form).
        "WTF_CSRF_CHECK_DEFAULT": False,
        "WTF_CSRF_TIME_LIMIT": SESSION_HOURS * 3600,
        "WTF_CSRF_SSL_STRICT": False,
    }


def engine_options(database_url: str) -> dict[str, object]:
    """Return SQLAlchemy engine options for the database in use."""
    options: dict[str, object] = {}
    if database_url.startswith("postgresql"):
        # A server can drop idle connections; a local SQLite file cannot.
        options["pool_pre_ping"] = True
        # No server-side prepared statements: a plan prepared while a table was tiny (a
        # sequential scan) would otherwise be kept after the table has grown.
        options["connect_args"] = {"prepare_threshold": None}
    return options


def _dev_secret(instance: Path) -> str:
    """Return a per-installation development secret, created on first use."""
    path = instance / "dev-secret-key"
    if path.exists():
        return path.read_text().strip()
    instance.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key
