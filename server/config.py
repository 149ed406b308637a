"""Configuration read from the environment with explicit types, each setting named once.

`SETTINGS` is the one table: an environment variable, its type, its default and the Flask
config key it fills (the variable's name without the `LAGESBILD_` prefix unless it says
otherwise). `flask_config` derives what follows from the settings (database URL form,
instance-folder defaults, the development secret, the request-size backstop).
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from server.sqlite_gate import GatedConnection

ENVIRONMENTS = ("development", "testing", "production")
# A workspace login lasts one working day at most (a night shift plus the morning).
SESSION_HOURS = 12
PREFIX = "LAGESBILD_"


class ConfigError(RuntimeError):
    """Raised when the environment holds an unusable setting."""


def _vapid_subject(name: str, raw: str) -> str:
    """Read the VAPID contact (RFC 8292): a mailto: or https: address."""
    value = raw.strip()
    if not value.startswith(("mailto:", "https://")):
        raise ConfigError(f"{name} must be a mailto: or https: address, got {raw!r}")
    return value


def _integer(name: str, raw: str) -> int:
    """Read an integer setting."""
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from exc


def _text(name: str, raw: str) -> str:
    """Read a string setting."""
    return raw


def _url(name: str, raw: str) -> str:
    """Read an address without its trailing slash."""
    return raw.rstrip("/")


def _tile_url(name: str, raw: str) -> str:
    """Read a map tile address template: https (or a same-origin path) with {z}, {x} and {y}."""
    url = raw.strip()
    if not all(part in url for part in ("{z}", "{x}", "{y}")):
        raise ConfigError(f"{name} must contain {{z}}, {{x}} and {{y}}, got {raw!r}")
    # "//host/…" (scheme-relative) would pass for a path here and be blocked by the CSP.
    is_path = url.startswith("/") and not url.startswith("//")
    if not (url.startswith(("https://", "http://")) or is_path):
        raise ConfigError(f"{name} must be an http(s) address or a path on this server")
    host = urlsplit(url).netloc.removeprefix("{s}.")
    if "{" in host or "}" in host:  # only Leaflet's {s}. subdomain becomes a CSP wildcard
        raise ConfigError(f"{name} may hold a placeholder in its host only as a leading {{s}}.")
    if any(c in url for c in " ;,'\"\n"):  # it goes into the Content-Security-Policy
        raise ConfigError(f"{name} must not contain spaces, quotes, commas or semicolons")
    return url


def _accel_prefix(name: str, raw: str) -> str:
    """Read the internal nginx location of photos: a path such as /_photos (no trailing /)."""
    prefix = raw.strip().rstrip("/")
    # It goes into a response header and names an nginx location: a plain path only.
    if not re.fullmatch(r"(/[A-Za-z0-9._~-]+)+", prefix):
        raise ConfigError(f"{name} must be a path such as /_photos, got {raw!r}")
    return prefix


GROUPING_MODES = ("background", "inline", "queue")
PHOTO_STORAGES = ("filesystem", "s3")


def _photo_storage(name: str, raw: str) -> str:
    """Read where photos are stored (one of PHOTO_STORAGES)."""
    value = raw.strip().lower()
    if value not in PHOTO_STORAGES:
        raise ConfigError(f"{name} must be one of {', '.join(PHOTO_STORAGES)}, got {raw!r}")
    return value


def _s3_prefix(name: str, raw: str) -> str:
    """Read a key prefix inside the bucket: path segments of safe characters, no slashes around."""
    prefix = raw.strip().strip("/")
    if not re.fullmatch(r"[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*", prefix):
        raise ConfigError(f"{name} must be a key prefix such as lagesbild/prod, got {raw!r}")
    return prefix


def _grouping_mode(name: str, raw: str) -> str:
    """Read how a push's reports reach their incidents (one of GROUPING_MODES)."""
    value = raw.strip().lower()
    if value not in GROUPING_MODES:
        raise ConfigError(f"{name} must be one of {', '.join(GROUPING_MODES)}, got {raw!r}")
    return value


_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


def _boolean(name: str, raw: str) -> bool:
    """Read a boolean setting (1/true/yes/on or 0/false/no/off)."""
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigError(f"{name} must be true or false, got {raw!r}")


@dataclass(frozen=True)
class Setting:
    """One setting: its environment variable, type, default and Flask config key."""

    env: str
    parse: Callable[[str, str], Any]
    default: Any
    key: str = ""  # the Flask config key when it is not the variable without its prefix

    @property
    def config_key(self) -> str:
        """Return the Flask config key this setting fills."""
        return self.key or self.env.removeprefix(PREFIX)


MiB = 1024 * 1024
SETTINGS: tuple[Setting, ...] = (
    Setting("LAGESBILD_ENV", _text, "production", key="LAGESBILD_ENV"),
    Setting("DATABASE_URL", _text, None, key="SQLALCHEMY_DATABASE_URI"),  # None: SQLite
    Setting("LAGESBILD_DATA_DIR", _text, None),  # None: instance/data
    Setting("SECRET_KEY", _text, None),  # required in production; no default
    Setting("LAGESBILD_BASE_URL", _url, "http://127.0.0.1:5000"),
    Setting("LAGESBILD_ENROL_CODE_TTL_HOURS", _integer, 24),
    Setting("LAGESBILD_MAX_BATCH_REPORTS", _integer, 500),
    Setting("LAGESBILD_MAX_PUSH_BYTES", _integer, 5 * MiB),
    Setting("LAGESBILD_MAX_PHOTO_BYTES", _integer, 15 * MiB),
    # 24 MP: twice a phone photo; decoding one costs about 100 MB per worker.
    Setting("LAGESBILD_MAX_PHOTO_PIXELS", _integer, 24_000_000),
    # Photo bytes one device may upload per calendar day (Stockholm); 0: no limit.
    Setting("LAGESBILD_PHOTO_QUOTA_BYTES_PER_DAY", _integer, 200 * MiB),
    Setting("LAGESBILD_FUTURE_SKEW_HOURS", _integer, 24),
    Setting("LAGESBILD_SQLITE_BUSY_TIMEOUT_MS", _integer, 30_000),
    # Queue SQLite writers at a file lock so the next one starts when the lock is free
    # (server/sqlite_gate.py); off only to measure what it brings.
    Setting("LAGESBILD_SQLITE_WRITE_GATE", _boolean, True),
    Setting("LAGESBILD_PULL_PAGE_SIZE", _integer, 500),
    # A JSON file of incident grouping rules over the defaults, checked at start-up.
    Setting("LAGESBILD_GROUPING_RULES", _text, None, key="GROUPING_RULES_FILE"),
    # background: the push only queues, a job in every worker groups shortly after;
    # inline: the push groups before it answers; queue: the push only queues and another
    # process groups (a server in background mode, `lagesbild incidents group`).
    # None: background, but inline in testing (API tests expect incidents at once).
    Setting("LAGESBILD_GROUPING", _grouping_mode, None),
    # The morning digest's mail (server.digest.delivery); no secret has a default.
    Setting("SMTP_HOST", _text, None),  # unset: digests fail visibly with "not configured"
    Setting("SMTP_PORT", _integer, 587),
    Setting("SMTP_USERNAME", _text, None),  # unset: no AUTH
    Setting("SMTP_PASSWORD", _text, None),
    Setting("SMTP_STARTTLS", _boolean, True),  # false only for a trusted local relay
    Setting("SMTP_TIMEOUT", _integer, 30),  # seconds per network operation
    Setting("SMTP_CA_FILE", _text, None),  # an extra CA bundle (a private or test CA)
    Setting("MAIL_FROM", _text, None),
    # None: on in production and development, off in testing (tests tick themselves).
    Setting("LAGESBILD_DIGEST_SCHEDULER", _boolean, None),
    # The demo coordinator's password (`lagesbild demo`); unset: a random one, printed once.
    Setting("LAGESBILD_DEMO_PASSWORD", _text, None),
    # Reverse proxies in front whose X-Forwarded-Proto is trusted (0: none; the app then
    # sees http behind a TLS proxy and sends no HSTS, so the proxy must send it).
    Setting("LAGESBILD_PROXY_HOPS", _integer, 0),
    # A workspace session also ends after this many minutes without a request.
    Setting("LAGESBILD_SESSION_IDLE_MINUTES", _integer, 60),
    # Days a phone keeps the text, place, position and photos of a report after the server
    # acknowledged it (the pull answer carries it); then only what "Mina rapporter" shows.
    Setting("LAGESBILD_PHONE_KEEP_DAYS", _integer, 7),
    # Retention (server.retention): the nightly purge job, and how long an uploaded photo
    # that no report names is kept (its report may still be on its way from the phone).
    Setting("LAGESBILD_PURGE_SCHEDULER", _boolean, None),  # None: as the digest scheduler
    Setting("LAGESBILD_PHOTO_GRACE_HOURS", _integer, 48),
    # The workspace maps' background tiles (a municipality may run its own tile server) and
    # the credit shown on them, as plain text; the pages' CSP allows the tiles' origin.
    Setting("LAGESBILD_MAP_TILE_URL", _tile_url, "https://tile.openstreetmap.org/{z}/{x}/{y}.png"),
    Setting("LAGESBILD_MAP_ATTRIBUTION", _text, "© OpenStreetMap contributors"),
    # Behind nginx (deploy/nginx/lagesbild.conf): the internal location that serves the
    # photo directory. Set, photo downloads answer with X-Accel-Redirect and no body once
    # access is checked; empty, the app sends the file itself.
    Setting("LAGESBILD_PHOTO_ACCEL_PREFIX", _accel_prefix, ""),
    # Where photos live: the data directory (one host) or an S3-compatible bucket that
    # several hosts share (server.photos.s3store). Credentials: boto3's own sources
    # (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, a profile or a role), never a default.
    Setting("LAGESBILD_PHOTO_STORAGE", _photo_storage, "filesystem"),
    Setting("LAGESBILD_S3_ENDPOINT_URL", _url, ""),  # empty: AWS itself
    Setting("LAGESBILD_S3_BUCKET", _text, ""),  # required with s3
    Setting("LAGESBILD_S3_REGION", _text, ""),  # empty: boto3's default
    Setting("LAGESBILD_S3_PREFIX", _s3_prefix, ""),  # empty: keys start with photos/
    # Urgent alerts (server/alerts): the VAPID key (a PEM file's path or the PEM itself) and
    # contact; no default, `lagesbild vapid generate` writes a key. Without one no push goes.
    Setting("LAGESBILD_VAPID_PRIVATE_KEY", _text, None),
    Setting("LAGESBILD_VAPID_SUBJECT", _vapid_subject, None),
    # Every worker runs the alerts job; leases and unique keys make each notification once.
    Setting("LAGESBILD_ALERTS_SCHEDULER", _boolean, None),  # None: off in testing only
)
_BY_KEY = {s.config_key: s for s in SETTINGS}


@dataclass(frozen=True)
class Settings:
    """The settings' typed values, by Flask config key."""

    values: Mapping[str, Any]

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read every setting from the environment (unset or empty means the default)."""
        env = os.environ if environ is None else environ
        values = {}
        for s in SETTINGS:
            raw = env.get(s.env, "")
            values[s.config_key] = s.parse(s.env, raw) if raw.strip() else s.default
        return cls(values)

    def with_overrides(self, overrides: Mapping[str, Any]) -> Settings:
        """Let explicit config (by Flask key) replace the environment before derivation."""
        return Settings({**self.values, **{k: v for k, v in overrides.items() if k in _BY_KEY}})

    def __getitem__(self, key: str) -> Any:
        """Return one setting's value by its Flask config key."""
        return self.values[key]


def flask_config(settings: Settings, instance_path: str) -> dict[str, object]:
    """Translate settings into Flask config keys, applying instance-folder defaults."""
    instance = Path(instance_path)
    env = settings["LAGESBILD_ENV"]
    if env not in ENVIRONMENTS:
        raise ConfigError(f"LAGESBILD_ENV must be one of {', '.join(ENVIRONMENTS)}, got {env!r}")
    database_url = database_uri(
        settings["SQLALCHEMY_DATABASE_URI"] or f"sqlite:///{instance / 'lagesbild.sqlite3'}"
    )
    secret = settings["SECRET_KEY"]
    if secret is None:
        if env == "production":
            raise ConfigError("SECRET_KEY must be set outside development (LAGESBILD_ENV)")
        secret = _dev_secret(instance)
    elif env == "production":
        check_secret(secret)
    if settings["SESSION_IDLE_MINUTES"] < 1:
        raise ConfigError("LAGESBILD_SESSION_IDLE_MINUTES must be at least 1")
    if settings["PHONE_KEEP_DAYS"] < 0:
        raise ConfigError("LAGESBILD_PHONE_KEEP_DAYS must be 0 or more")
    if settings["PHOTO_GRACE_HOURS"] < 1:
        raise ConfigError("LAGESBILD_PHOTO_GRACE_HOURS must be at least 1")
    check_photo_storage(settings)
    scheduler = settings["DIGEST_SCHEDULER"]
    purger = settings["PURGE_SCHEDULER"]
    alerts = settings["ALERTS_SCHEDULER"]
    grouping = settings["GROUPING"] or ("inline" if env == "testing" else "background")
    return {
        **settings.values,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": engine_options(
            database_url, write_gate=settings["SQLITE_WRITE_GATE"]
        ),
        "DATA_DIR": settings["DATA_DIR"] or str(instance / "data"),
        "SECRET_KEY": secret,
        # Every worker of every host runs the digest job; a lease in the database makes
        # each digest go out once (server.digest.scheduler). Tests call tick() themselves.
        "DIGEST_SCHEDULER": scheduler if scheduler is not None else env != "testing",
        # The nightly purge, the same way: every worker runs it, a lease purges once.
        "PURGE_SCHEDULER": purger if purger is not None else env != "testing",
        # Urgent alerts: fan-out, sending and escalation (server.alerts.worker).
        "ALERTS_SCHEDULER": alerts if alerts is not None else env != "testing",
        # The grouping of queued reports: every worker runs the job, woken after each push;
        # the organisation's counter lock lets one pass at a time group an organisation.
        "GROUPING": grouping,
        "GROUPING_JOB": grouping == "background",
        # A backstop only: the API views read bodies through server.http.read_body with
        # their own limits, and need to see one byte beyond them to answer 413.
        "MAX_CONTENT_LENGTH": max(settings["MAX_PUSH_BYTES"], settings["MAX_PHOTO_BYTES"]) + 1,
        "JSON_SORT_KEYS": False,
        # The coordinator workspace's login session: never readable from scripts, not sent
        # on cross-site subrequests, and only over HTTPS in production.
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": env == "production",
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=SESSION_HOURS),
        # Its CSRF tokens (Flask-WTF): the workspace checks them itself (the device API uses
        # bearer tokens, no cookies), a token lives as long as the session, and no Referer
        # check (a proxy that passes another Host would refuse every form).
        "WTF_CSRF_CHECK_DEFAULT": False,
        "WTF_CSRF_TIME_LIMIT": SESSION_HOURS * 3600,
        "WTF_CSRF_SSL_STRICT": False,
    }


def check_photo_storage(settings: Settings) -> None:
    """Refuse an S3 storage without a bucket, or together with nginx serving photo files."""
    if settings["PHOTO_STORAGE"] != "s3":
        return
    if not str(settings["S3_BUCKET"]).strip():
        raise ConfigError("LAGESBILD_S3_BUCKET must be set when LAGESBILD_PHOTO_STORAGE is s3")
    if settings["PHOTO_ACCEL_PREFIX"]:
        # nginx's X-Accel-Redirect serves files from the data directory; with S3 there are none.
        raise ConfigError(
            "LAGESBILD_PHOTO_ACCEL_PREFIX must be empty when LAGESBILD_PHOTO_STORAGE is s3"
            " (the app streams photos from the bucket; nginx has no photo files to serve)"
        )
    url = str(settings["S3_ENDPOINT_URL"])
    if url and not url.startswith(("https://", "http://")):
        raise ConfigError(f"LAGESBILD_S3_ENDPOINT_URL must be an http(s) address, got {url!r}")


MIN_SECRET_BYTES = 32
# Fewer different characters than this cannot be random (token_hex has 16, base64 64).
MIN_SECRET_SYMBOLS = 10
_MAKE_SECRET = 'python -c "import secrets; print(secrets.token_hex(32))"'  # noqa: S105


def check_secret(secret: str) -> None:
    """Refuse a production SECRET_KEY too short or too plain to resist guessing.

    The key signs the session cookie: whoever can guess it can forge a login.
    """
    if len(secret.encode()) < MIN_SECRET_BYTES:
        raise ConfigError(
            f"SECRET_KEY must be at least {MIN_SECRET_BYTES} random bytes in production;"
            f" make one with: {_MAKE_SECRET}"
        )
    if len(set(secret)) < MIN_SECRET_SYMBOLS:
        raise ConfigError(
            "SECRET_KEY does not look random (too few different characters);"
            f" make one with: {_MAKE_SECRET}"
        )


def database_uri(url: str) -> str:
    """Give PostgreSQL URLs the psycopg 3 driver SQLAlchemy needs; others pass unchanged."""
    for scheme in ("postgres://", "postgresql://"):  # postgres:// is the Heroku-style form
        if url.startswith(scheme):
            return "postgresql+psycopg://" + url.removeprefix(scheme)
    return url


def engine_options(database_url: str, *, write_gate: bool = True) -> dict[str, object]:
    """Return SQLAlchemy engine options for the database in use."""
    options: dict[str, object] = {}
    if database_url.startswith("sqlite") and write_gate:
        options["connect_args"] = {"factory": GatedConnection}
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
