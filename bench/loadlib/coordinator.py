"""The coordinator's workspace traffic: log in through the form, then read four pages."""

from __future__ import annotations

import re
from collections.abc import Callable
from http.cookiejar import DefaultCookiePolicy
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import urlencode

LOGIN_PATH = "/workspace/login"
# The pages a coordinator opens in the morning: (request kind, path, expected content type).
PAGES = (
    ("night view", "/workspace/", "text/html"),
    ("incident list", "/workspace/incidents", "text/html"),
    ("map data", "/workspace/map/data.json", "application/geo+json"),
    ("digest page", "/workspace/digest", "text/html"),
)
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class LoginFailed(RuntimeError):
    """The coordinator could not log in; the soak cannot read the workspace."""


class CookieSession:
    """Keeps the workspace's session cookie and sends it on every request.

    The production app marks its cookie Secure; this load runs on plain http on loopback,
    where locust's cookie jar stores the cookie but does not send it back. So the cookie is
    kept here and sent as a header, and the jar is told to store none.
    """

    def __init__(self, client: Any) -> None:
        """Wrap locust's client."""
        self.client = client
        self.cookies: dict[str, str] = {}
        client.cookiejar.set_policy(DefaultCookiePolicy(allowed_domains=[]))

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        """Send a request with the cookies; return locust's response context manager."""
        headers = dict(kwargs.pop("headers", None) or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        return self.client.request(method, path, headers=headers, catch_response=True, **kwargs)

    def keep(self, resp: Any) -> None:
        """Remember the cookies an answer sets."""
        raw = resp.headers.get("Set-Cookie") if resp.headers else None
        if raw:
            jar: SimpleCookie = SimpleCookie()
            jar.load(raw)
            self.cookies.update({k: m.value for k, m in jar.items()})


def log_in(session: CookieSession, email: str, password: str) -> None:
    """Log in with the form and its CSRF token; the session keeps the cookie."""
    with session.request("GET", LOGIN_PATH, name="login form") as page:
        session.keep(page)
        found = _CSRF.search(page.text or "")
        if page.status_code != 200 or found is None:
            page.failure(f"login form: status {page.status_code}")
            raise LoginFailed(f"login form: status {page.status_code}")
    body = urlencode({"csrf_token": found.group(1), "email": email, "password": password})
    with session.request(
        "POST",
        LOGIN_PATH,
        name="login",
        data=body,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        allow_redirects=False,
    ) as resp:
        session.keep(resp)
        if resp.status_code != 302:
            resp.failure(f"login: status {resp.status_code}")
            raise LoginFailed(f"login: status {resp.status_code}")


def browse_workspace(session: CookieSession, think: Callable[[], None]) -> None:
    """Open the night view, the incident list, the map data and the digest page."""
    for name, path, content_type in PAGES:
        think()
        with session.request("GET", path, name=name, allow_redirects=False) as resp:
            session.keep(resp)
            got = resp.headers.get("Content-Type", "") if resp.headers else ""
            if resp.status_code != 200 or not got.startswith(content_type):
                resp.failure(f"status {resp.status_code}, {got or 'no content type'}")
