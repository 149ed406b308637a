"""`lagesbild check`: every problem of the configuration, one line each."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import Flask
from sqlalchemy import select

from server.alerts import vapid
from server.alerts.models import OnCallLevel
from server.config import SETTINGS, ConfigError, check_secret
from server.digest.delivery import SmtpConfig
from server.extensions import db
from server.ops import probes
from server.photos.backends import open_store

# Words of the placeholders that example files and tutorials put where a key belongs.
PLACEHOLDERS = ("change", "replace", "example", "secret", "default", "insecure", "xxxx")


def secret_key(config: Mapping[str, Any]) -> list[str]:
    """Return the SECRET_KEY's problems in production (short, plain or a placeholder)."""
    if config.get("LAGESBILD_ENV") != "production":
        return []
    secret = str(config.get("SECRET_KEY") or "")
    try:
        check_secret(secret)
    except ConfigError as exc:
        return [f"secret key: {exc}"]
    if any(word in secret.lower() for word in PLACEHOLDERS):
        return ["secret key: SECRET_KEY looks like a placeholder from an example; make a new one"]
    return []


def base_url(config: Mapping[str, Any]) -> list[str]:
    """Return LAGESBILD_BASE_URL's problems: not an absolute http(s) address, or not https."""
    raw = str(config.get("BASE_URL") or "")
    parts = urlsplit(raw)
    try:
        port_ok = parts.port is None or parts.port > 0
    except ValueError:
        port_ok = False
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or not port_ok
        or parts.query
        or parts.fragment
        or "@" in parts.netloc
        or any(c.isspace() for c in raw)
    ):
        return [
            f"base url: LAGESBILD_BASE_URL {raw!r} is not an address such as"
            " https://lagesbild.example.se"
        ]
    if config.get("LAGESBILD_ENV") == "production" and parts.scheme != "https":
        return [f"base url: LAGESBILD_BASE_URL {raw!r} must use https in production"]
    return []


def rota_in_use() -> bool:
    """Tell whether any organisation has an on-call rota (its own short connection)."""
    with db.engine.connect() as conn:
        return conn.execute(select(OnCallLevel.id).limit(1)).first() is not None


def vapid_key(config: Mapping[str, Any]) -> list[str]:
    """Return the Web Push key's problems (asked only when an organisation has a rota)."""
    if not config.get("VAPID_PRIVATE_KEY"):
        return [
            "vapid: an organisation has an on-call rota but LAGESBILD_VAPID_PRIVATE_KEY is not"
            " set, so nobody gets a push; make one with: lagesbild vapid generate FILE"
        ]
    problems = []
    try:
        vapid.load(config)
    except vapid.KeyProblem as exc:
        problems.append(f"vapid: LAGESBILD_VAPID_PRIVATE_KEY: {exc}")
    if not config.get("VAPID_SUBJECT"):
        problems.append("vapid: LAGESBILD_VAPID_SUBJECT is not set (mailto: or https: address)")
    return problems


def writable(label: str, directory: Path) -> list[str]:
    """Return a problem unless a file can be created in the directory (or its nearest parent)."""
    existing = directory
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent  # created on first use: its parent must let us
    if not existing.is_dir():
        return [f"{label}: {existing} is not a directory"]
    try:
        with tempfile.NamedTemporaryFile(dir=existing, prefix=".lagesbild-check-"):
            pass
    except OSError as exc:
        return [f"{label}: cannot write in {existing}: {exc.strerror or exc}"]
    return []


def photo_storage(config: Mapping[str, Any], data_dir: Path) -> tuple[str, list[str]]:
    """Check where photos go: the data directory's photos/, or the bucket (put + delete)."""
    name = "object_storage" if config.get("PHOTO_STORAGE") == "s3" else "photos"
    return (name, open_store({**config, "DATA_DIR": str(data_dir)}).probe())


def run(app: Flask) -> list[tuple[str, list[str]]]:
    """Run every check against the app; return (check, problems) in a fixed order."""
    config = app.config
    data_dir = Path(config["DATA_DIR"])
    results = [
        ("secret_key", secret_key(config)),
        ("base_url", base_url(config)),
        ("data_dir", writable("data directory", data_dir)),
        photo_storage(config, data_dir),
    ]
    with app.app_context():
        database = probes.database()
        results.append(("database", database))
        if not database and rota_in_use():  # Web Push matters once a rota exists
            results.append(("vapid", vapid_key(config)))
        smtp_config = SmtpConfig.from_config(config)
        enabled = not database and probes.digest_enabled()
        if enabled or smtp_config.host:
            results.append(("smtp", probes.smtp(smtp_config)))
    return results


def load_app(factory: Callable[[], Flask]) -> tuple[Flask | None, list[str]]:
    """Build the app; for each setting it refuses, note the problem and retry without it.

    The stand-in values live in this process only, so that one bad setting does not hide
    the problems of the database, the disk or the mail server.
    """
    problems: list[str] = []
    replaced: dict[str, str | None] = {}
    for _attempt in range(len(SETTINGS) + 1):
        try:
            with _environment(replaced):
                return factory(), problems
        except ConfigError as exc:
            problems.append(f"config: {exc}")
            name = _named_setting(str(exc))
            if name is None or name in replaced:
                return None, problems
            replaced[name] = os.urandom(32).hex() if name == "SECRET_KEY" else None
    return None, problems


def _named_setting(message: str) -> str | None:
    """Return the environment variable a configuration error is about (it starts with it)."""
    names = sorted((s.env for s in SETTINGS), key=len, reverse=True)
    return next((n for n in names if message.startswith(n)), None)


@contextmanager
def _environment(replaced: Mapping[str, str | None]) -> Iterator[None]:
    """Set (or remove, for None) environment variables for the block, then put them back."""
    saved = {name: os.environ.get(name) for name in replaced}
    try:
        for name, value in replaced.items():
            _set(name, value)
        yield
    finally:
        for name, value in saved.items():
            _set(name, value)


def _set(name: str, value: str | None) -> None:
    """Set or remove one environment variable."""
    if value is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = value
