"""The one check of the API's error envelope, shared by the API tests."""

from __future__ import annotations

import re
from typing import Any

from werkzeug.test import TestResponse


def assert_error(resp: TestResponse, status: int | None = None, code: str | None = None) -> Any:
    """Check `{"error": {"code", "message", "details"?}}` (and status/code) and return it."""
    if status is not None:
        assert resp.status_code == status, (resp.status_code, resp.get_data(as_text=True)[:500])
    assert resp.status_code >= 400
    assert resp.mimetype == "application/json", resp.headers.get("Content-Type")
    body = resp.get_json()
    assert isinstance(body, dict) and set(body) == {"error"}, body
    err = body["error"]
    assert isinstance(err, dict)
    assert {"code", "message"} <= set(err) <= {"code", "message", "details"}, err
    assert isinstance(err["code"], str) and re.fullmatch(r"[a-z][a-z0-9_]*", err["code"]), err
    assert isinstance(err["message"], str) and err["message"].strip()
    if "details" in err:
        assert isinstance(err["details"], dict)
    if code is not None:
        assert err["code"] == code, err
    return err
