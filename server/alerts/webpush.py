"""Send one Web Push message: RFC 8291 aes128gcm encryption, RFC 8292 VAPID, RFC 8030 headers."""

from __future__ import annotations

import base64
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import http_ece
import requests
from cryptography.hazmat.primitives.asymmetric import ec

from server.alerts import vapid

# Hours, not 0: a phone asleep in a pocket for a while still gets the alert when it wakes.
TTL_SECONDS = 4 * 3600
TIMEOUT_SECONDS = 10
# The longest Retry-After we honour: an urgent alert is not held for longer than this.
MAX_RETRY_AFTER = timedelta(minutes=30)


@dataclass(frozen=True)
class Target:
    """Where and for whom to encrypt: a subscription's endpoint and keys (base64url)."""

    endpoint: str
    p256dh: str
    auth: str


@dataclass(frozen=True)
class Result:
    """What the push service answered: its status and, for 429/5xx, when to try again."""

    status: int
    retry_after: timedelta | None = None
    error: str | None = None


def _raw(text: str) -> bytes:
    """Decode unpadded base64url."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def encrypt(target: Target, payload: bytes) -> bytes:
    """Encrypt the payload for the subscription (aes128gcm, a fresh key pair and salt)."""
    sender = ec.generate_private_key(ec.SECP256R1())
    return http_ece.encrypt(
        payload,
        salt=os.urandom(16),
        private_key=sender,
        dh=_raw(target.p256dh),
        auth_secret=_raw(target.auth),
        version="aes128gcm",
    )


def retry_after(value: str | None, now: datetime) -> timedelta | None:
    """Read Retry-After (seconds or an HTTP date) as a wait, capped; None when absent or bad."""
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        wait = timedelta(seconds=int(text))
    else:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            return None
        wait = when - now
    return max(timedelta(0), min(wait, MAX_RETRY_AFTER))


def send(
    config: Mapping[str, Any], target: Target, payload: bytes, topic: str, now: datetime
) -> Result:
    """POST the encrypted message; network trouble is a Result, never an exception."""
    headers = {
        "TTL": str(TTL_SECONDS),
        "Urgency": "high",
        "Topic": topic,
        "Content-Encoding": "aes128gcm",
        "Content-Type": "application/octet-stream",
        "Authorization": vapid.authorization(config, target.endpoint, time.time()),
    }
    try:
        resp = requests.post(
            target.endpoint,
            data=encrypt(target, payload),
            headers=headers,
            timeout=TIMEOUT_SECONDS,
            allow_redirects=False,
        )
    except requests.RequestException as exc:
        return Result(0, None, type(exc).__name__)
    return Result(
        resp.status_code,
        retry_after(resp.headers.get("Retry-After"), now),
        None if resp.status_code < 300 else resp.text[:200],
    )
