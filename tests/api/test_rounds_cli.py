"""`lagesbild checkpoint create` and `lagesbild round create`, with their errors."""

from __future__ import annotations

import json
import re

import pytest

from server.cli import main
from server.extensions import db
from server.rounds.models import Round, RoundCheckpoint
from server.rounds.service import SHORT_CODE_ALPHABET
from tests.support import factories


def cli(runner, *args: str):
    return runner.invoke(main, list(args))


def ok_json(result) -> dict:
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def make_cp(runner, org, name="Port A", lat="55.641", lon="13.206", *extra: str) -> dict:
    return ok_json(
        cli(
            runner,
            "checkpoint",
            "create",
            "--org",
            org.slug,
            "--name",
            name,
            "--lat",
            lat,
            "--lon",
            lon,
            *extra,
            "--json",
        )
    )


def test_checkpoint_create_prints_id_token_short_code_and_url(runner, org) -> None:
    got = make_cp(runner, org, "Port A", "55.641", "13.206", "--radius", "30")
    assert set(got) == {"id", "token", "short_code", "url"}
    assert re.fullmatch(r"[A-Za-z0-9_-]{22,}", got["token"])
    assert len(got["short_code"]) == 6 and set(got["short_code"]) <= set(SHORT_CODE_ALPHABET)
    assert not set(got["short_code"]) & set("0O1IL")
    assert got["url"] == f"http://127.0.0.1:5000/#scan={got['token']}"
    other = make_cp(runner, org, "Port B")
    assert other["token"] != got["token"] and other["short_code"] != got["short_code"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--org", "nope", "--name", "A", "--lat", "55", "--lon", "13"), "nope"),
        (("--org", "ORG", "--name", "A", "--lat", "95", "--lon", "13"), "latitude"),
        (("--org", "ORG", "--name", "A", "--lat", "55", "--lon", "nan"), "numbers"),
        (("--org", "ORG", "--name", " ", "--lat", "55", "--lon", "13"), "name"),
        (("--org", "ORG", "--name", "A", "--lat", "55", "--lon", "13", "--radius", "0"), "radius"),
        (("--org", "ORG", "--name", "A", "--lat", "x", "--lon", "13"), "x"),
    ],
)
def test_checkpoint_create_errors(runner, org, args, message) -> None:
    args = tuple(org.slug if a == "ORG" else a for a in args)
    result = cli(runner, "checkpoint", "create", *args, "--json")
    assert result.exit_code != 0
    assert message in result.output.lower() or message in result.output


def test_round_create_prints_its_id_and_keeps_the_order(runner, org) -> None:
    a, b = make_cp(runner, org, "A"), make_cp(runner, org, "B")
    got = ok_json(
        cli(
            runner,
            "round",
            "create",
            "--org",
            org.slug,
            "--name",
            "Natt",
            "--checkpoints",
            f"{b['id']},{a['id']}",
            "--ordered",
            "--window",
            "22:00-02:00",
            "--grace",
            "20",
            "--json",
        )
    )
    assert set(got) == {"id"}
    db.session.expire_all()
    rnd = db.session.get(Round, got["id"])
    assert (rnd.ordered, rnd.window, rnd.grace_minutes) == (True, "22:00-02:00", 20)
    stops = db.session.query(RoundCheckpoint).filter_by(round_id=rnd.id).order_by("position")
    assert [s.checkpoint_id for s in stops] == [b["id"], a["id"]]


def test_round_create_errors(runner, org) -> None:
    own = make_cp(runner, org, "A")["id"]
    other_org = factories.make_org()
    foreign = make_cp(runner, other_org, "Elsewhere")["id"]
    cases = [
        (("--org", "nope", "--checkpoints", str(own), "--window", "22:00-02:00"), "nope"),
        (("--org", org.slug, "--checkpoints", str(own), "--window", "22-02"), "window"),
        (("--org", org.slug, "--checkpoints", str(own), "--window", "22:00-22:00"), "same time"),
        (
            ("--org", org.slug, "--checkpoints", str(foreign), "--window", "22:00-02:00"),
            str(foreign),
        ),
        (("--org", org.slug, "--checkpoints", "a,b", "--window", "22:00-02:00"), "list"),
        # Beyond the database's integers, or a digit only to Python: no traceback.
        (
            ("--org", org.slug, "--checkpoints", "99999999999999999999", "--window", "22:00-02:00"),
            "list",
        ),
        (("--org", org.slug, "--checkpoints", "²", "--window", "22:00-02:00"), "list"),
        (
            ("--org", org.slug, "--checkpoints", f"{own},{own}", "--window", "22:00-02:00"),
            "different",
        ),
        (
            (
                "--org",
                org.slug,
                "--checkpoints",
                str(own),
                "--window",
                "22:00-02:00",
                "--grace",
                "-1",
            ),
            "grace",
        ),
    ]
    for args, message in cases:
        result = cli(runner, "round", "create", "--name", "R", *args, "--json")
        assert result.exit_code != 0, args
        assert message in result.output, (args, result.output)
    db.session.expire_all()
    assert db.session.query(Round).count() == 0
