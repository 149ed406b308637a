"""Workspace logins with Flask-Login: sessions, roles and a brake on password guessing.

A person logs in with e-mail and password (argon2id). The session is Flask's signed cookie
(HttpOnly, SameSite=Lax, Secure in production; see server.config) holding Flask-Login's
user id and the id of a session kept on the server (server.auth.sessions); CSRF tokens are
Flask-WTF's (server.workspace.hooks checks them). The user loader checks that server-side
session and reads the person afresh on every request, so a logout, a deactivated account
or a changed role takes effect at once; a session ends one lifetime after its login
however busy it was, and after SESSION_IDLE_MINUTES without a request. Failed logins are
counted in the database (server.auth.throttle). What each role may open is the table in
server.workspace.access.
"""

from __future__ import annotations

import functools
import re
import secrets
from datetime import datetime, timedelta
from typing import Literal
from urllib.parse import urlsplit

from flask import current_app, g, redirect, request, session, url_for
from flask_login import UserMixin, current_user, login_user, logout_user
from flask_wtf.csrf import generate_csrf
from werkzeug.wrappers import Response as BaseResponse

from server.auth import sessions, throttle
from server.auth.models import ROLES, Person
from server.auth.service import hash_password, verify_password
from server.db import phase
from server.extensions import db, login_manager
from server.orgs.models import Organisation
from server.workspace import access, service
from sync.clock import utcnow

# C0 control characters except tab, line feed and carriage return.
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

# Roles that may use the workspace.
WORKSPACE_ROLES = frozenset(ROLES)
# The cookie session's key for the id of the server-side session.
SESSION_ID = "sid"
# What Flask-Login and Flask-WTF cache on `g` for one request.
REQUEST_CACHE = ("_login_user", "csrf_token", "csrf_valid")


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
    def role(self) -> str:
        """Return the person's role (admin, coordinator, analyst or viewer)."""
        return self.person.role

    @property
    def can_edit(self) -> bool:
        """Tell whether the person may decide on incidents (admin or coordinator)."""
        return self.person.role in access.EDITORS


@login_manager.user_loader
def load_user(user_id: str) -> Coordinator | None:
    """Load the logged-in person afresh; end a session that expired or lost its right."""
    sid = session.get(SESSION_ID)
    fresh = (
        isinstance(sid, str)
        and user_id.isdigit()
        # An absolute limit from the login (a session refreshed by activity still ends
        # after one lifetime) and an idle limit; both counted on the server.
        and sessions.check(sid, int(user_id), now(), *session_limits())
    )
    found = service.person_with_org(int(user_id)) if fresh else None
    user = Coordinator(*found) if found is not None else None
    if user is None or not user.is_active:
        session.clear()
        return None
    return user


def now() -> datetime:
    """Return the time the session and brake rules use (tests set it)."""
    return utcnow()


def session_limits() -> tuple[timedelta, timedelta]:
    """Return the absolute and the idle limit of a session."""
    idle = timedelta(minutes=int(current_app.config["SESSION_IDLE_MINUTES"]))
    return current_app.permanent_session_lifetime, idle


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
    """Tell whether the logged-in person may decide on incidents (admin or coordinator)."""
    me = user()
    return me is not None and me.can_edit


def may(endpoint: str, method: str = "GET") -> bool:
    """Tell whether the logged-in person may use an endpoint (for links and forms)."""
    me = user()
    return access.allowed(me.role if me else None, endpoint, method)


def reads_free_text() -> bool:
    """Tell whether the logged-in person may see free text (not an analyst)."""
    me = user()
    return me is not None and access.reads_free_text(me.role)


def home_url() -> str:
    """Return the start page of the logged-in person's role (the night view for most)."""
    me = user()
    return url_for(access.home(me.role if me else None))


def safe_next(target: str | None) -> str:
    """Return a redirect target inside the workspace, never another site."""
    default = home_url()
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


def refusal() -> Literal["login", "forbidden"] | None:
    """Apply the access table to this request: why it is refused, or None when it may go on."""
    me = user()
    if me is None:
        return None if access.is_open(request.endpoint, request.method) else "login"
    return None if access.allowed(me.role, request.endpoint, request.method) else "forbidden"


# --- logging in -----------------------------------------------------------------------------


def client_address() -> str | None:
    """Return the client's address as the WSGI server saw it.

    Behind a reverse proxy this is the proxy's address unless the deployment restores the
    real one (werkzeug's ProxyFix for a known number of proxies); X-Forwarded-For is never
    read here, since any client can send it.
    """
    return request.remote_addr


def login_locked(email: str) -> bool:
    """Tell whether the account or this client's address is locked now."""
    return throttle.locked_until(email, client_address(), now()) is not None


def login_failed(email: str) -> bool:
    """Count a failed login; return whether the account or address is now locked."""
    return throttle.record_failure(email, client_address(), now())


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
    throttle.record_success(normalise_email(person.email))
    lifetime, _idle = session_limits()
    sid = sessions.start(person.id, now(), lifetime)
    session.clear()
    forget_request_state()
    session.permanent = True
    session[SESSION_ID] = sid
    login_user(Coordinator(*found))
    generate_csrf()  # a new token for the new session


def end_session() -> None:
    """Log out, end the session on the server and forget everything the cookie held."""
    sid = session.get(SESSION_ID)
    if isinstance(sid, str):
        sessions.end(sid, now())
    logout_user()
    session.clear()


def end_all_sessions(person: Person) -> int:
    """End every session of the person (this one too); return how many ended."""
    with phase("write"):
        ended = sessions.end_all(person.id, "everywhere", now())
    logout_user()
    session.clear()
    return ended
