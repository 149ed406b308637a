"""The coordinator's workspace traffic: log in through the form, then read four pages."""

from __future__ import annotations

import re
from collections.abc import Callable
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


def log_in(client: Any, email: str, password: str) -> None:
    """Log in with the form and its CSRF token; the client keeps the session cookie."""
    page = client.get(LOGIN_PATH, name="login form")
    found = _CSRF.search(page.text or "")
    if page.status_code != 200 or found is None:
        raise LoginFailed(f"login form: status {page.status_code}")
    body = urlencode({"csrf_token": found.group(1), "email": email, "password": password})
    with client.request(
        "POST",
        LOGIN_PATH,
        name="login",
        data=body,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        allow_redirects=False,
        catch_response=True,
    ) as resp:
        if resp.status_code != 302:
            resp.failure(f"login: status {resp.status_code}")
            raise LoginFailed(f"login: status {resp.status_code}")


def browse_workspace(client: Any, think: Callable[[], None]) -> None:
    """Open the night view, the incident list, the map data and the digest page."""
    for name, path, content_type in PAGES:
        think()
        with client.request(
            "GET", path, name=name, allow_redirects=False, catch_response=True
        ) as resp:
            got = resp.headers.get("Content-Type", "") if resp.headers else ""
            if resp.status_code != 200 or not got.startswith(content_type):
                resp.failure(f"status {resp.status_code}, {got or 'no content type'}")
