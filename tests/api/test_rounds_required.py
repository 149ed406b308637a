"""Required and optional checkpoints: the CLI's --optional and the round form's checkbox."""

from __future__ import annotations

import json

import pytest
from flask import Flask

from server.cli import main
from server.extensions import db
from server.rounds.models import Round, RoundCheckpoint
from tests.support import factories
from tests.support.rounds import checkpoint
from tests.support.workspace import cheap_hashing, login, post  # noqa: F401 - a fixture

PULL = "/api/v1/sync/pull"


def required_flags(round_id: int) -> list[tuple[int, bool]]:
    db.session.expire_all()
    rows = db.session.query(RoundCheckpoint).filter_by(round_id=round_id).order_by("position")
    return [(r.checkpoint_id, r.required) for r in rows]


def create(runner, org, ids: str, *extra: str):
    args = ["round", "create", "--org", org.slug, "--name", "R", "--checkpoints", ids]
    return runner.invoke(main, [*args, "--window", "22:00-02:00", *extra, "--json"])


def test_cli_optional_checkpoints_reach_the_pull(runner, org, client, device) -> None:
    a, b, c = (checkpoint(org.id, n) for n in "ABC")
    result = create(runner, org, f"{a.id},{b.id},{c.id}", "--optional", f"{c.id},{a.id}")
    assert result.exit_code == 0, result.output
    got = json.loads(result.output)
    assert set(got) == {"id"}
    assert required_flags(got["id"]) == [(a.id, False), (b.id, True), (c.id, False)]
    pulled = client.get(PULL, headers=device.headers).get_json()["rounds"][0]["checkpoints"]
    assert pulled == [
        {"id": a.id, "required": False},
        {"id": b.id, "required": True},
        {"id": c.id, "required": False},
    ]


def test_cli_without_optional_makes_every_checkpoint_required(runner, org) -> None:
    a, b = checkpoint(org.id, "A"), checkpoint(org.id, "B")
    result = create(runner, org, f"{a.id},{b.id}")
    assert result.exit_code == 0, result.output
    assert required_flags(json.loads(result.output)["id"]) == [(a.id, True), (b.id, True)]


@pytest.mark.parametrize(
    ("optional", "words"),
    [("STRAY", "not in --checkpoints"), ("x,1", "not a list"), (",", "not a list")],
)
def test_cli_optional_errors(runner, org, optional, words) -> None:
    a, b = checkpoint(org.id, "A"), checkpoint(org.id, "B")
    stray = checkpoint(org.id, "C")
    value = str(stray.id) if optional == "STRAY" else optional
    result = create(runner, org, f"{a.id},{b.id}", "--optional", value)
    assert result.exit_code != 0
    assert words in result.output
    if optional == "STRAY":
        assert str(stray.id) in result.output
    assert db.session.query(Round).count() == 0


def test_the_round_form_has_a_checked_required_box_per_checkpoint(app: Flask, org) -> None:
    cp = checkpoint(org.id, "Port A")
    client = app.test_client()
    login(client, factories.make_person(org, role="coordinator"))
    page = client.get("/workspace/rounds").get_data(as_text=True)
    assert f'name="req_{cp.id}" aria-label="Obligatorisk: Port A" checked' in page
    assert "Obligatorisk" in page


def test_an_unchecked_box_makes_the_checkpoint_optional(app: Flask, org, device) -> None:
    a, b = checkpoint(org.id, "A"), checkpoint(org.id, "B")
    client = app.test_client()
    login(client, factories.make_person(org, role="coordinator"))
    form = {
        "name": "Natt",
        "window": "22:00-02:00",
        "weekday": ["4"],
        "req_present": "1",
        f"pos_{a.id}": "2",
        f"pos_{b.id}": "1",
        f"req_{b.id}": "on",  # A's box left unchecked
    }
    assert post(client, "/workspace/rounds/rounds", form).status_code == 302
    rnd = db.session.query(Round).filter_by(org_id=org.id).one()
    assert required_flags(rnd.id) == [(b.id, True), (a.id, False)]
    page = client.get("/workspace/rounds").get_data(as_text=True)
    assert "A (valfri)" in page
    pulled = app.test_client().get(PULL, headers=device.headers).get_json()["rounds"]
    assert pulled[0]["checkpoints"] == [
        {"id": b.id, "required": True},
        {"id": a.id, "required": False},
    ]
