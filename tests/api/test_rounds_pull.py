"""The pull carries the organisation's checkpoints and rounds, and nothing of others'."""

from __future__ import annotations

import hashlib
import json

from tests.support import factories
from tests.support.rounds import checkpoint, round_over

PULL = "/api/v1/sync/pull"


def pull(client, dev):
    resp = client.get(PULL, headers=dev.headers)
    assert resp.status_code == 200
    return resp.get_json()


def test_an_organisation_without_rounds_pulls_empty_lists(client, device) -> None:
    body = pull(client, device)
    assert body["checkpoints"] == [] and body["rounds"] == []


def test_checkpoints_and_rounds_of_the_own_organisation_only(client, org, device) -> None:
    a, b = checkpoint(org.id, "A"), checkpoint(org.id, "B")
    rnd = round_over(org.id, [b, a], ordered=True, optional=frozenset({a.id}))
    other = factories.make_org()
    round_over(other.id, [checkpoint(other.id, "Elsewhere")])
    body = pull(client, device)
    assert {c["name"] for c in body["checkpoints"]} == {"A", "B"}
    got = {c["name"]: c for c in body["checkpoints"]}["A"]
    assert got == {
        "id": a.id,
        "name": "A",
        "short_code": a.short_code,
        "token_sha256": hashlib.sha256(a.token.encode()).hexdigest(),
        "lat": a.lat,
        "lon": a.lon,
        "radius_m": 50,
        "instructions": "",
    }
    # The token itself never leaves the server in a pull: a scan proves the label was read.
    assert a.token not in json.dumps(body)
    assert body["rounds"] == [
        {
            "id": rnd.id,
            "name": "Nattrond",
            "ordered": True,
            "window": "22:00-02:00",
            "every_minutes": None,
            "grace_minutes": 15,
            "weekdays": [0, 1, 2, 3, 4, 5, 6],
            "checkpoints": [{"id": b.id, "required": True}, {"id": a.id, "required": False}],
        }
    ]
