"""Workspace logins: sessions, roles, CSRF tokens and a brake on password guessing.

A person logs in with e-mail and password (argon2id). The session is Flask's signed cookie
(HttpOnly, SameSite=Lax, Secure in production; see server.config) holding the person's id,
the login time and a CSRF token. Each request loads the person afresh, so a deactivated
account or a changed role takes effect at once. Coordinators and admins may change things;
partners may only look.
"""

from __future__ import annotations

import functools
import hmac
import re
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import current_app, g, redirect, request, session, url_for
from sqlalchemy import func, select

from server.auth.models import Person
from server.auth.service import hash_password, verify_password
from server.db import SAFE_METHODS
from server.extensions import db
from server.orgs.models import Organisation

F = TypeVar("F", bound=Callable[..., Any])
# C0 control characters except tab, line feed and carriage return.
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

# Roles that may use the workspace, and those of them that may change anything.
WORKSPACE_ROLES = frozenset({"coordinator", "admin", "partner"})
EDIT_ROLES = frozenset({"coordinator", "admin"})
# The brake: this many failed logins for one e-mail within the window lock it for LOCK_FOR.
MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(minutes=15)
LOCK_FOR = timedelta(minutes=15)
# Logging in and out changes only the session: every role may do it.
SESSION_ENDPOINTS = frozenset({"workspace.login", "workspace.logout"})
CSRF_KEY = "csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
# Marks a request whose person has been loaded (`g` may outlive a request in tests).
LOADED = "lagesbild.person_loaded"


class CsrfError(Exception):
    """A state-changing request without the session's CSRF token."""


class ReadOnlyError(Exception):
    """A partner (read-only) tried to change something."""


# --- the current person ---------------------------------------------------------------------


def load_person() -> None:
    """Set g.person and g.org from the session (None when nobody valid is logged in)."""
    g.person = None
    g.org = None
    request.environ[LOADED] = True
    pid = session.get("pid")
    if not isinstance(pid, int):
        return
    login_at = session.get("login_at")
    lifetime: timedelta = current_app.permanent_session_lifetime
    if not isinstance(login_at, int | float) or time.time() - login_at > lifetime.total_seconds():
        # An absolute limit: a session refreshed by activity still ends after one lifetime.
        session.clear()
        return
    person = db.session.get(Person, pid)
    if person is None or not person.active or person.role not in WORKSPACE_ROLES:
        session.clear()
        return
    g.person = person
    g.org = db.session.get(Organisation, person.org_id)


def can_edit() -> bool:
    """Tell whether the logged-in person may change things (not a partner)."""
    person = g.get("person")
    return person is not None and person.role in EDIT_ROLES


def login_required(view: F) -> F:
    """Send visitors who are not logged in to the login page (and back afterwards)."""

    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not request.environ.get(LOADED):
            load_person()
        if g.person is None:
            return redirect(url_for("workspace.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


def safe_next(target: str | None) -> str:
    """Return a redirect target inside the workspace, never another site."""
    default = url_for("workspace.night")
    if not target:
        return default
    parts = urlsplit(target)
    inside = parts.path == "/workspace" or parts.path.startswith("/workspace/")
    if parts.scheme or parts.netloc or not inside:
        return default
    if (
        target.startswith("//")
        or "\\" in target
        or any(ord(c) < 32 or ord(c) == 127 for c in target)
        or len(target) > 2000
    ):
        return default
    return target


# --- CSRF -----------------------------------------------------------------------------------


def csrf_token() -> str:
    """Return the session's CSRF token, creating it on first use."""
    token = session.get(CSRF_KEY)
    if not isinstance(token, str) or len(token) < 32:
        token = secrets.token_urlsafe(32)
        session[CSRF_KEY] = token
    return token


def csrf_protect() -> None:
    """Refuse a state-changing request whose token does not match the session's."""
    if request.method in SAFE_METHODS:
        return
    expected = session.get(CSRF_KEY)
    sent = request.headers.get(CSRF_HEADER) or request.form.get(CSRF_FIELD, "")
    if (
        not isinstance(expected, str)
        or not sent
        or not hmac.compare_digest(sent.encode(), expected.encode())
    ):
        raise CsrfError


def require_editor() -> None:
    """Refuse changes by a read-only (partner) login; the login itself is not a change."""
    if request.method in SAFE_METHODS or request.endpoint in SESSION_ENDPOINTS:
        return
    if g.get("person") is not None and not can_edit():
        raise ReadOnlyError


# --- logging in -----------------------------------------------------------------------------


@dataclass
class _Failures:
    times: deque[float] = field(default_factory=deque)
    locked_until: float = 0.0


class LoginBrake:
    """Count failed logins per e-mail address in this process's memory.

    Per process: with several gunicorn workers an attacker gets at most MAX_FAILURES per
    worker per window, which still turns an online guessing attack into a crawl; nothing is
    written to the database for an address that may not exist.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_email: dict[str, _Failures] = {}

    def locked(self, email: str, now: float | None = None) -> bool:
        """Tell whether the address is locked now."""
        now = time.monotonic() if now is None else now
        with self._lock:
            entry = self._by_email.get(email)
            return entry is not None and entry.locked_until > now

    def fail(self, email: str, now: float | None = None) -> bool:
        """Record a failure; return whether the address is locked from now on."""
        now = time.monotonic() if now is None else now
        with self._lock:
            if len(self._by_email) > 100_000:  # a flood of invented addresses: forget them
                self._by_email.clear()
            entry = self._by_email.setdefault(email, _Failures())
            entry.times.append(now)
            while entry.times and entry.times[0] <= now - FAILURE_WINDOW.total_seconds():
                entry.times.popleft()
            if len(entry.times) >= MAX_FAILURES:
                entry.locked_until = now + LOCK_FOR.total_seconds()
                entry.times.clear()
                return True
            return False

    def succeed(self, email: str) -> None:
        """Forget the failures of an address after a good login."""
        with self._lock:
            self._by_email.pop(email, None)


def brake() -> LoginBrake:
    """Return this app's login brake."""
    return current_app.extensions.setdefault("workspace_login_brake", LoginBrake())


@functools.cache
def _dummy_hash() -> str:
    """A hash to verify against for unknown addresses, so timing does not reveal them."""
    return hash_password(secrets.token_urlsafe(16))


def clean_text(value: str) -> str:
    """Drop control characters a form may carry (NUL cannot even be stored in PostgreSQL)."""
    return _CONTROL_RE.sub("", value)


def normalise_email(email: str) -> str:
    """Return an e-mail address as stored (trimmed, lower case, no control characters)."""
    return clean_text(email).strip().lower()[:254]


def authenticate(email: str, password: str) -> Person | None:
    """Return the person with this e-mail and password, or None (never says which failed).

    The lookup runs in its own short transaction; the slow hash check runs with none open.
    """
    person = db.session.scalar(select(Person).where(func.lower(Person.email) == email))
    db.session.commit()
    stored = person.password_hash if person is not None else _dummy_hash()
    ok = verify_password(stored, password[:1024])
    if not ok or person is None or not person.active or person.role not in WORKSPACE_ROLES:
        return None
    return person


def start_session(person: Person) -> None:
    """Start a fresh session for the person (nothing of the old one survives)."""
    session.clear()
    session.permanent = True
    session["pid"] = person.id
    session["login_at"] = int(time.time())
    session[CSRF_KEY] = secrets.token_urlsafe(32)
