"""Fuzz runs that must find no 500: the device API from its OpenAPI document (schemathesis),
and every workspace route from the app's URL map, with bounded examples."""

from __future__ import annotations

import string
from typing import Any
from urllib.parse import quote

import pytest
import schemathesis
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.core import NotSet

from tests.support import factories
from tests.support.workspace import (  # noqa: F401  (cheap_hashing is a fixture)
    cheap_hashing,
    login,
    make_scene,
    session_token,
)

pytestmark = pytest.mark.usefixtures("cheap_hashing")
# Examples per operation and generation mode: enough to reach the validators' edges, few
# enough that both database lanes finish in seconds.
API_EXAMPLES = 25
ROUTE_EXAMPLES = 12
FUZZ_SETTINGS = settings(
    max_examples=API_EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


def _send(client: FlaskClient, case: Any, token: str) -> Any:
    """Send a generated case through the Flask test client with the device's token."""
    headers = {k: v for k, v in (case.headers or {}).items() if isinstance(v, str)}
    headers["Authorization"] = f"Bearer {token}"
    kwargs: dict[str, Any] = {"headers": headers, "query_string": case.query or {}}
    body = case.body
    if not isinstance(body, NotSet):
        media = case.media_type or "application/json"
        if media == "application/json" and not isinstance(body, bytes):
            kwargs["json"] = body
        else:
            data = body if isinstance(body, bytes) else str(body).encode()
            kwargs.update(data=data, content_type=media)
    return client.open(case.formatted_path, method=case.method, **kwargs)


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_the_device_api_answers_generated_requests_without_a_500(
    app: Flask, client: FlaskClient, device: factories.EnrolledDevice, mode: GenerationMode
) -> None:
    document = client.get("/api/openapi.json").get_json()
    schema = schemathesis.openapi.from_dict(document)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 6, "the OpenAPI document lost operations"
    seen: list[tuple[str, str, int]] = []

    for operation in operations:

        @FUZZ_SETTINGS
        @given(case=operation.as_strategy(generation_mode=mode))
        def probe(case: Any) -> None:
            resp = _send(client, case, device.token)
            seen.append((case.method, case.path, resp.status_code))
            assert resp.status_code < 500, (
                f"{case.method} {case.formatted_path} {case.query} -> {resp.status_code}: "
                f"{resp.get_data(as_text=True)[:300]}"
            )

        probe()
    _sweep_api_parameters(client, document, device.token)
    # The run reached the operations themselves, not only the authentication in front.
    assert {path for _m, path, status in seen if status < 400} >= {
        "/api/v1/categories",
        "/api/v1/sync/pull",
    }


def _sweep_api_parameters(client: FlaskClient, document: dict[str, Any], token: str) -> None:
    """Send every hostile value in every path and query parameter the document declares."""
    auth = {"Authorization": f"Bearer {token}"}
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            params = operation.get("parameters", [])
            for value in HOSTILE:
                url = path
                for p in params:
                    if p["in"] == "path":
                        url = url.replace("{" + p["name"] + "}", quote(value, safe="") or "x")
                for p in (p for p in params if p["in"] == "query"):
                    resp = client.open(
                        url, method=method.upper(), headers=auth, query_string={p["name"]: value}
                    )
                    assert resp.status_code < 500, f"{method} {url}?{p['name']}={value!r}"
                resp = client.open(url, method=method.upper(), headers=auth)
                assert resp.status_code < 500, f"{method} {url} -> {resp.status_code}"


def _workspace_rules(app: Flask) -> list[tuple[str, str, list[str]]]:
    """Return (method, rule, argument names) of every workspace route."""
    found = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/workspace") or rule.endpoint.endswith("static"):
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            found.append((method, rule.rule, sorted(rule.arguments)))
    return found


_TEXT = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=0, max_size=30
)
_VALUES = st.one_of(
    _TEXT,
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.sampled_from(["0001-01-01", "9999-12-31", "2026-11-23", "²", "-1", "", "..", "%00"]),
    st.uuids().map(str),
    st.text(alphabet=string.hexdigits, min_size=60, max_size=70),
)
# Values that broke parsers before: huge and negative numbers, non-ASCII digits, dates at
# the calendar's ends, empty, traversal, control and surrogate-adjacent text.
HOSTILE = ["99999999999999999999999", str(2**63), str(2**31), "-1", "²", "١٢", "0001-01-01",
           "9999-12-31", "", "../..", "\x00", "\u202e" + "x" * 300, "nan", "1e999"]  # fmt: skip
_QUERY_KEYS = ["kind", "date", "from", "to", "night", "category", "area", "status", "sort",
               "size", "weeks", "step", "lang", "page", "limit", "q", "lat", "lon"]  # fmt: skip


def test_every_workspace_route_answers_fuzzed_input_without_a_500(
    app: Flask, client: FlaskClient
) -> None:
    scene = make_scene("admin")  # admin may open every page, the admin-only ones too
    login(client, scene.who)
    routes = _workspace_rules(app)
    assert len(routes) >= 20, "the URL map lost workspace routes"
    token = session_token(client)

    for method, rule, arguments in routes:
        if rule.endswith("/logout"):
            continue  # logging out would end the fuzz run's session
        _sweep(client, token, method, rule, arguments)
        _route_probe(client, token, method, rule, arguments)()


def _request(
    client: FlaskClient, token: str, method: str, path: str, query: dict[str, str]
) -> None:
    """Send one fuzzed request and insist on an answer below 500."""
    if method == "GET":
        resp = client.get(path, query_string=query)
    else:
        resp = client.open(path, method=method, data={**query, "csrf_token": token})
    assert resp.status_code < 500, f"{method} {path} {query} -> {resp.status_code}"


def _sweep(client: FlaskClient, token: str, method: str, rule: str, arguments: list[str]) -> None:
    """Send every hostile value in every path argument and in every known query key."""
    for value in HOSTILE:
        path = rule
        for name in arguments:
            path = _fill(path, name, value)
        if "<" in path or "//" in path:
            continue  # an empty segment cannot reach the route
        _request(client, token, method, path, {})
        _request(client, token, method, path, dict.fromkeys(_QUERY_KEYS, value))
        for kind in ("night", "week", "month"):
            _request(
                client, token, method, path, {**dict.fromkeys(_QUERY_KEYS, value), "kind": kind}
            )


def _route_probe(
    client: FlaskClient, token: str, method: str, rule: str, arguments: list[str]
) -> Any:
    """Return a hypothesis test that sends fuzzed path values and query to one route."""

    @settings(
        max_examples=ROUTE_EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(
        path_values=st.fixed_dictionaries({name: _VALUES for name in arguments}),
        query=st.dictionaries(st.sampled_from(_QUERY_KEYS), _VALUES, max_size=4),
    )
    def probe(path_values: dict[str, str], query: dict[str, str]) -> None:
        path = rule
        for name, value in path_values.items():
            path = _fill(path, name, value)
        _request(client, token, method, path, query)

    return probe


def _fill(rule: str, name: str, value: str) -> str:
    """Put a value into a rule's placeholder for `name`, whatever its converter."""
    start = rule.index("<")
    while True:
        end = rule.index(">", start)
        if rule[start + 1 : end].split(":")[-1] == name:
            # Percent-encode so that a slash or a question mark stays inside the segment.
            return rule[:start] + quote(value, safe="") + rule[end + 1 :]
        start = rule.index("<", end)
