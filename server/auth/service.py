"""Person accounts and password hashing (argon2id)."""

from __future__ import annotations

import re

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select

from server.audit import service as audit
from server.audit.service import CLI, Actor
from server.auth import sessions
from server.auth.models import ROLES, Person
from server.domain_errors import Invalid, NotFound
from server.extensions import db
from server.orgs.models import Organisation
from sync.clock import utcnow

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD = 10


def hash_password(password: str) -> str:
    """Hash a password with argon2id."""
    return _hasher.hash(password)


def verify_password(stored: str, password: str) -> bool:
    """Check a password against its hash."""
    try:
        return _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def create(org: Organisation, email: str, role: str, password: str, actor: Actor = CLI) -> Person:
    """Create a person who can log in."""
    email = email.strip().lower()
    if not _EMAIL_RE.match(email) or len(email) > 254:
        raise Invalid("invalid_email", f"{email!r} is not an e-mail address")
    if role not in ROLES:
        raise Invalid("unknown_role", f"unknown role {role!r}; use one of {', '.join(ROLES)}")
    if len(password) < MIN_PASSWORD:
        raise Invalid(
            "short_password", f"the password must have at least {MIN_PASSWORD} characters"
        )
    if db.session.scalar(select(Person).where(func.lower(Person.email) == email)):
        raise Invalid("exists", f"a person with e-mail {email} exists")
    person = Person(org_id=org.id, email=email, role=role, password_hash=hash_password(password))
    db.session.add(person)
    audit.add(org.id, "person.create", f"{email} {role}", actor)
    db.session.commit()
    return person


def find(email: str) -> Person:
    """Return the person with this e-mail address (any case), or raise NotFound."""
    email = email.strip().lower()
    person = db.session.scalar(select(Person).where(func.lower(Person.email) == email))
    if person is None:
        raise NotFound("not_found", f"no person with e-mail {email}")
    return person


def logout_everywhere(person: Person, actor: Actor = CLI) -> int:
    """End every session of the person; return how many were open."""
    ended = sessions.end_all(person.id, "everywhere", utcnow())
    audit.add(person.org_id, "person.logout_everywhere", person.email, actor)
    db.session.commit()
    return ended


def deactivate(person: Person, actor: Actor = CLI) -> int:
    """Stop the person from logging in and end their sessions; return how many ended."""
    person.active = False
    ended = sessions.end_all(person.id, "deactivated", utcnow())
    audit.add(person.org_id, "person.deactivate", person.email, actor)
    db.session.commit()
    return ended


def set_role(person: Person, role: str, actor: Actor = CLI) -> int:
    """Give the person another role and end their sessions; return how many ended.

    A session carries what its login was allowed to do; the new role starts with a new login.
    """
    if role not in ROLES:
        raise Invalid("unknown_role", f"unknown role {role!r}; use one of {', '.join(ROLES)}")
    ended = 0
    audit.add(person.org_id, "person.set_role", f"{person.email} {person.role}→{role}", actor)
    if person.role != role:
        person.role = role
        ended = sessions.end_all(person.id, "role", utcnow())
    db.session.commit()
    return ended
