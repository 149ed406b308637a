"""Web Push subscriptions of workspace persons: save, remove, retire, list."""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from urllib.parse import urlsplit

from sqlalchemy import select, update

from server.alerts.models import PushSubscription
from server.auth.models import Person
from server.domain_errors import Invalid
from server.extensions import db
from sync.clock import utcnow

MAX_ENDPOINT = 2000
_B64URL = re.compile(r"^[A-Za-z0-9_-]+={0,2}$")
# Loopback push services are only for the test suite's stand-in (LAGESBILD_ENV=testing).
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def _b64(value: str, size: int, what: str) -> bytes:
    """Decode an unpadded base64url key of exactly `size` bytes."""
    text = (value or "").strip()
    # The decoder skips characters outside the alphabet: check the text itself, so what is
    # stored is exactly the key (and fits its column).
    if not _B64URL.match(text) or len(text) > 4 * (size // 3 + 1):
        raise Invalid("invalid_subscription", f"{what} is not base64url")
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise Invalid("invalid_subscription", f"{what} is not base64url") from exc
    if len(raw) != size:
        raise Invalid("invalid_subscription", f"{what} must be {size} bytes")
    return raw


def check_endpoint(endpoint: str, testing: bool) -> str:
    """Return the endpoint when it is an https address (http on loopback only in testing)."""
    text = (endpoint or "").strip()
    if not text or len(text) > MAX_ENDPOINT:
        raise Invalid("invalid_subscription", "endpoint missing or too long")
    parts = urlsplit(text)
    try:
        host = parts.hostname
        _ = parts.port  # raises on a port that is not a number
    except ValueError as exc:
        raise Invalid("invalid_subscription", "endpoint is not an address") from exc
    if not host or parts.username or parts.password:
        raise Invalid("invalid_subscription", "endpoint is not an address")
    if parts.scheme == "https":
        return text
    if testing and parts.scheme == "http" and host in LOOPBACK_HOSTS:
        return text
    raise Invalid("invalid_subscription", "endpoint must be an https address")


def endpoint_hash(endpoint: str) -> str:
    """Return the SHA-256 of an endpoint, the subscription's unique key."""
    return hashlib.sha256(endpoint.encode("utf-8")).hexdigest()


def save(person: Person, endpoint: str, p256dh: str, auth: str, testing: bool) -> PushSubscription:
    """Store (or renew) the browser's subscription for the person, in the open transaction.

    One browser has one endpoint: a second person logging in there takes it over, since
    only the person using the browser now should be woken by it.
    """
    url = check_endpoint(endpoint, testing)
    point = _b64(p256dh, 65, "p256dh")
    if point[0] != 4:
        raise Invalid("invalid_subscription", "p256dh must be an uncompressed P-256 point")
    _b64(auth, 16, "auth")
    key = endpoint_hash(url)
    values = {
        "person_id": person.id,
        "p256dh": p256dh.strip(),
        "auth": auth.strip(),
        "created_at": utcnow(),
        "retired_at": None,
    }
    row = db.session.scalar(select(PushSubscription).where(PushSubscription.endpoint_hash == key))
    if row is None:
        row = PushSubscription(endpoint=url, endpoint_hash=key, **values)
        db.session.add(row)
    else:
        for name, value in values.items():
            setattr(row, name, value)
    db.session.flush()
    return row


def remove(person: Person, endpoint: str) -> bool:
    """Retire the person's subscription of this endpoint; False when there was none of theirs.

    Idempotent on purpose: the browser drops its subscription either way, and a second
    press of "Stäng av" must not fail.
    """
    key = endpoint_hash((endpoint or "").strip())
    done = db.session.execute(
        update(PushSubscription)
        .where(
            PushSubscription.endpoint_hash == key,
            PushSubscription.person_id == person.id,
            PushSubscription.retired_at.is_(None),
        )
        .values(retired_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return done.rowcount == 1  # type: ignore[attr-defined]


def retire(subscription_id: int) -> None:
    """Retire a subscription the push service no longer knows (404/410), in the open transaction."""
    db.session.execute(
        update(PushSubscription)
        .where(PushSubscription.id == subscription_id, PushSubscription.retired_at.is_(None))
        .values(retired_at=utcnow())
        .execution_options(synchronize_session=False)
    )


def active_of(person_ids: list[int]) -> list[PushSubscription]:
    """Return the live subscriptions of these persons (active persons only)."""
    if not person_ids:
        return []
    return list(
        db.session.scalars(
            select(PushSubscription)
            .join(Person, Person.id == PushSubscription.person_id)
            .where(
                PushSubscription.person_id.in_(person_ids),
                PushSubscription.retired_at.is_(None),
                Person.active.is_(True),
            )
            .order_by(PushSubscription.id)
        )
    )


def count_of(person_id: int) -> int:
    """Return how many live subscriptions (browsers) the person has."""
    return len(active_of([person_id]))
