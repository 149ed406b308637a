"""Failed workspace logins, counted in the database per account and per client address.

Every gunicorn worker reads and writes the same rows, so the count is shared and survives
a worker restart. Each key gets a row, invented e-mail addresses too: the answers must not
tell them from real accounts, and a flood of invented ones only adds rows, which cannot
push out or reset the count of a real account. Rows are deleted once they no longer
matter (`forget_at`), on the next failed login.

After `limit` failures a key is locked; each further failure doubles the lock, from
FIRST_LOCK up to MAX_LOCK. A lock ends by itself; the count is forgotten after a quiet
WINDOW past the last failure and the end of the lock, or at once by a good login (the
account's count only: a good login must not let one address go on guessing others).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select

from server.auth.models import LoginFailures
from server.db import phase
from server.extensions import db
from server.upsert import insert_ignore

ACCOUNT_LIMIT = 5
# An office or a mobile network can put many coordinators behind one address.
ADDRESS_LIMIT = 20
WINDOW = timedelta(minutes=15)
FIRST_LOCK = timedelta(minutes=1)
MAX_LOCK = timedelta(minutes=60)


def keys(email: str, address: str | None) -> dict[str, int]:
    """Return the counted keys of one attempt and the failures each may have."""
    found = {f"account:{email}"[:300]: ACCOUNT_LIMIT}
    if address:
        found[f"address:{address}"[:300]] = ADDRESS_LIMIT
    return found


def lock_for(failures: int, limit: int) -> timedelta | None:
    """Return how long a key with this many failures is locked (None: not at all)."""
    if failures < limit:
        return None
    # The exponent is capped so a long flood cannot overflow timedelta.
    return min(FIRST_LOCK * 2 ** min(failures - limit, 16), MAX_LOCK)


def locked_until(email: str, address: str | None, now: datetime) -> datetime | None:
    """Return when the attempt's locks end, or None when neither key is locked now."""
    with phase("read"):
        ends = db.session.scalars(
            select(LoginFailures.locked_until).where(
                LoginFailures.key.in_(keys(email, address)), LoginFailures.locked_until > now
            )
        ).all()
    return max(ends) if ends else None


def record_failure(email: str, address: str | None, now: datetime) -> bool:
    """Count a failed login for the account and the address; return whether one is locked."""
    locked = False
    with phase("write"):
        db.session.execute(delete(LoginFailures).where(LoginFailures.forget_at < now))
        for key, limit in keys(email, address).items():
            db.session.execute(
                insert_ignore(LoginFailures.__table__, ["key"]).values(
                    key=key, failures=0, last_failed_at=now, forget_at=now
                )
            )
            row = db.session.scalars(
                select(LoginFailures)
                .where(LoginFailures.key == key)
                .with_for_update()
                .execution_options(populate_existing=True)
            ).one()
            if row.forget_at <= now:  # a quiet window has passed: start again
                row.failures = 0
                row.locked_until = None
            row.failures += 1
            row.last_failed_at = now
            lock = lock_for(row.failures, limit)
            if lock is not None:
                row.locked_until = now + lock
                locked = True
            row.forget_at = max(now, row.locked_until or now) + WINDOW
    return locked


def record_success(email: str) -> None:
    """Forget the account's failures after a good login."""
    with phase("write"):
        account = next(iter(keys(email, None)))  # the account's key, as failures count it
        db.session.execute(delete(LoginFailures).where(LoginFailures.key == account))
