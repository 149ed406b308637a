"""Web Push subscriptions of workspace persons: save, remove, retire, list."""

from __future__ import annotations

import base64
import binascii
import hashlib
import ipaddress
import re
import socket
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
# Names that only mean something inside a network: the server must not be made to post
# to its own neighbours (docs/alerts.md, "Subscriptions").
LOCAL_SUFFIXES = (".localhost", ".local", ".internal")


def _text(value: str | None) -> str:
    """Return the endpoint's text: printable ASCII without spaces (a URL as browsers give it).

    A lone surrogate cannot be encoded (nor hashed), and PostgreSQL stores no NUL: both
    are refused here instead of failing at the database.
    """
    text = (value or "").strip()
    if not all("!" <= ch <= "~" for ch in text):
        raise Invalid("invalid_subscription", "endpoint must be a URL in printable ASCII")
    return text


def _ip_literal(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """Return the address a host names literally (also "127.1", "0x7f.1", "2130706433")."""
    try:
        found = ipaddress.ip_address(host)
    except ValueError:
        try:
            # The resolver reads these legacy IPv4 forms as addresses too.
            found = ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    if isinstance(found, ipaddress.IPv6Address) and found.ipv4_mapped is not None:
        return found.ipv4_mapped
    return found


def _internal_host(host: str) -> bool:
    """Tell whether the host is a name or address inside a network, not a push service."""
    name = host.lower().rstrip(".")
    if name == "localhost" or name.endswith(LOCAL_SUFFIXES):
        return True
    address = _ip_literal(name)
    # is_global is False for private, loopback, link-local, shared and reserved ranges.
    return address is not None and (not address.is_global or address.is_multicast)


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
    """Return the endpoint when it is an https address of a public host.

    http on loopback is only for the test suite's push-service stand-in (testing).
    """
    text = _text(endpoint)
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
    if testing and parts.scheme == "http" and host in LOOPBACK_HOSTS:
        return text
    if parts.scheme != "https":
        raise Invalid("invalid_subscription", "endpoint must be an https address")
    if _internal_host(host):
        raise Invalid("invalid_subscription", "endpoint must be a public push service")
    return text


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
    key = endpoint_hash(_text(endpoint))
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
