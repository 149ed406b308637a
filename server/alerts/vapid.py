"""VAPID (RFC 8292): the server's P-256 key from configuration, and the signed JWT header."""

from __future__ import annotations

import base64
import functools
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid02, VapidException

# A JWT lives at most 24 h (RFC 8292 §2); a shorter life limits a leaked header's use.
JWT_SECONDS = 12 * 3600


class KeyProblem(ValueError):
    """The configured VAPID key cannot be used; the message says why (never the key)."""


def b64url(data: bytes) -> str:
    """Encode bytes as unpadded base64url, as Web Push writes keys."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def configured(config: Mapping[str, Any]) -> bool:
    """Tell whether both the key and the subject are set."""
    return bool(config.get("VAPID_PRIVATE_KEY")) and bool(config.get("VAPID_SUBJECT"))


def _pem_of(value: str) -> bytes:
    """Return the PEM bytes of the setting: the PEM itself, or the file it names."""
    if value.lstrip().startswith("-----BEGIN"):
        return value.strip().encode("ascii")
    path = Path(value).expanduser()
    try:
        return path.read_bytes()
    except OSError as exc:
        raise KeyProblem(f"cannot read {path}: {exc.strerror or exc}") from exc


@functools.lru_cache(maxsize=4)
def _load(value: str) -> Vapid02:
    """Load and check the key (cached per setting value, so a tick does not re-read it)."""
    pem = _pem_of(value)  # KeyProblem is a ValueError: read before the parse's except
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as exc:
        raise KeyProblem("not a PEM private key without a password") from exc
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise KeyProblem("the key must be an elliptic-curve P-256 (prime256v1) key")
    return Vapid02(private_key=key)


def load(config: Mapping[str, Any]) -> Vapid02:
    """Return the configured key; KeyProblem when it is missing or unusable."""
    value = config.get("VAPID_PRIVATE_KEY")
    if not value:
        raise KeyProblem("LAGESBILD_VAPID_PRIVATE_KEY is not set")
    return _load(str(value))


def public_key(config: Mapping[str, Any]) -> str:
    """Return the applicationServerKey the browsers subscribe with (base64url point)."""
    raw = load(config).public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return b64url(raw)


def authorization(config: Mapping[str, Any], endpoint: str, now: float) -> str:
    """Return the `Authorization: vapid t=…, k=…` value for one push service's origin."""
    parts = urlsplit(endpoint)
    claims = {
        "aud": f"{parts.scheme}://{parts.netloc}",
        "exp": int(now) + JWT_SECONDS,
        "sub": str(config.get("VAPID_SUBJECT") or ""),
    }
    try:
        return load(config).sign(claims)["Authorization"]
    except VapidException as exc:  # a subject the library refuses (checked at start-up too)
        raise KeyProblem(str(exc)) from exc


def generate(path: Path) -> str:
    """Write a new P-256 key as PEM (mode 0600, never over a file); return its public key."""
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    raw = key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return b64url(raw)
