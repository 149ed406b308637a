"""Workspace logins with Flask-Login: sessions, roles and a brake on password guessing.

A person logs in with e-mail and password (argon2id). The session is Flask's signed cookie
(HttpOnly, SameSite=Lax, Secure in production; see server.config) holding Flask-Login's
user id and the login time; CSRF tokens are Flask-WTF's (server.workspace.hooks checks
them). The user loader reads the person afresh on every request, so a deactivated account
or a changed role takes effect at once, and ends a session one lifetime after its login
however busy it was. Coordinators and admins may change things; partners may only look.
"""

from __future__ import annotations

import functools
import re
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import urlsplit

from flask import current_app, g, redirect, request, session, url_for
from flask_login import UserMixin, current_user, login_user, logout_user
from flask_wtf.csrf import generate_csrf
from werkzeug.wrappers import Response as BaseResponse

from server.auth.models import Person
from server.auth.service import hash_password, verify_password
from server.db import SAFE_METHODS
from server.extensions import db, login_manager
from server.orgs.models import Organisation
from server.workspace import service

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
# The session key of the login time (the absolute session limit counts from it).
LOGIN_AT = "login_at"
# What Flask-Login and Flask-WTF cache on `g` for one request.
REQUEST_CACHE = ("_login_user", "csrf_token", "csrf_valid")


class ReadOnlyError(Exception):
    """A partner (read-only) tried to change something."""


# --- the current person ---------------------------------------------------------------------


class Coordinator(UserMixin):
    """Flask-Login's user: a person allowed in the workspace, with their organisation."""

    def __init__(self, person: Person, org: Organisation) -> None:
        self.person = person
        self.org = org

    def get_id(self) -> str:
        """Return the id Flask-Login keeps in the session."""
        return str(self.person.id)

    @property
    def is_active(self) -> bool:
        """Tell whether the account may log in."""
        return self.person.active and self.person.role in WORKSPACE_ROLES

    @property
    def can_edit(self) -> bool:
        """Tell whether the person may change things (not a partner)."""
        return self.person.role in EDIT_ROLES


@login_manager.user_loader
def load_user(user_id: str) -> Coordinator | None:
    """Load the logged-in person afresh; end a session that expired or lost its right."""
    login_at = session.get(LOGIN_AT)
    lifetime: timedelta = current_app.permanent_session_lifetime
    # An absolute limit: a session refreshed by activity still ends after one lifetime.
    fresh = isinstance(login_at, int | float) and time.time() - login_at <= lifetime.total_seconds()
    found = service.person_with_org(int(user_id)) if fresh and user_id.isdigit() else None
    user = Coordinator(*found) if found is not None else None
    if user is None or not user.is_active:
        session.clear()
        return None
    return user


# Sessions are not tied to an address or a browser string (coordinators move between
# networks), and nothing asks for a "fresh" login: the session's own limits are the rule.
login_manager.session_protection = None


@login_manager.unauthorized_handler
def to_login() -> BaseResponse:
    """Send a visitor who is not logged in to the login page (and back afterwards)."""
    return redirect(url_for("workspace.login", next=request.full_path.rstrip("?")))


def forget_request_state() -> None:
    """Drop the login and CSRF token cached on `g`: they belong to one request.

    `g` lives as long as the app context, which a test (or a CLI command) may hold open
    across several requests.
    """
    for name in REQUEST_CACHE:
        g.pop(name, None)


def user() -> Coordinator | None:
    """Return the logged-in coordinator, or None."""
    return current_user._get_current_object() if current_user.is_authenticated else None


def can_edit() -> bool:
    """Tell whether the logged-in person may change things (not a partner)."""
    me = user()
    return me is not None and me.can_edit


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


def require_editor() -> None:
    """Refuse changes by a read-only (partner) login; the login itself is not a change."""
    if request.method in SAFE_METHODS or request.endpoint in SESSION_ENDPOINTS:
        return
    if user() is not None and not can_edit():
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
    person = service.person_by_email(email)
    db.session.commit()
    stored = person.password_hash if person is not None else _dummy_hash()
    ok = verify_password(stored, password[:1024])
    if not ok or person is None or not person.active or person.role not in WORKSPACE_ROLES:
        return None
    return person


def start_session(person: Person) -> None:
    """Log the person in on a fresh session (nothing of the old one survives)."""
    found = service.person_with_org(person.id)
    if found is None:  # pragma: no cover - the person was just read
        raise LookupError(person.id)
    session.clear()
    forget_request_state()
    session.permanent = True
    session[LOGIN_AT] = int(time.time())
    login_user(Coordinator(*found))
    generate_csrf()  # a new token for the new session


def end_session() -> None:
    """Log out and forget everything the session held."""
    logout_user()
    session.clear()
