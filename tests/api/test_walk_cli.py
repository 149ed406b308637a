"""`lagesbild walk create|protocol`: plan from the command line, write the protocol file."""

from __future__ import annotations

import json
from pathlib import Path

from server.extensions import db
from server.walks import service as walks
from server.walks.models import Walk
from tests.api.test_cli import assert_clear_failure, cli, ok_json
from tests.support import factories
from tests.support.push import push_ok
from tests.support.walks import area_of, make_walk, observation


def test_walk_create_prints_the_id_and_plans_the_walk(runner, org) -> None:
    area_of(org)
    data = ok_json(
        cli(
            runner,
            "walk",
            "create",
            "--org",
            org.slug,
            "--area",
            "centrum",
            "--date",
            "2026-12-10",
            "--dark",
            "--json",
        )
    )
    walk = db.session.get(Walk, data["id"])
    assert walk is not None and walk.org_id == org.id
    assert (walk.walk_date.isoformat(), walk.dark, walk.status) == ("2026-12-10", True, "planned")
    assert data["area"] == "Centrum" and data["dark"] is True


def test_walk_create_takes_the_area_by_name_in_daylight(runner, org) -> None:
    area_of(org)
    data = ok_json(
        cli(
            runner,
            "walk",
            "create",
            "--org",
            org.name,
            "--area",
            "CENTRUM",
            "--date",
            "2026-12-10",
            "--json",
        )
    )
    assert db.session.get(Walk, data["id"]).dark is False


def test_walk_create_refuses_an_unknown_org(runner, org) -> None:
    result = cli(
        runner,
        "walk",
        "create",
        "--org",
        "ingen-sadan",
        "--area",
        "centrum",
        "--date",
        "2026-12-10",
        "--json",
    )
    assert_clear_failure(result, "no organisation")


def test_walk_create_refuses_an_unknown_area(runner, org) -> None:
    area_of(org)
    result = cli(
        runner, "walk", "create", "--org", org.slug, "--area", "norr", "--date", "2026-12-10"
    )
    assert_clear_failure(result, "no area", "norr")


def test_walk_create_refuses_another_organisations_area(runner, org) -> None:
    area_of(factories.make_org("Grannkommunen"))
    result = cli(
        runner, "walk", "create", "--org", org.slug, "--area", "centrum", "--date", "2026-12-10"
    )
    assert_clear_failure(result, "no area")


def test_walk_create_refuses_a_bad_date(runner, org) -> None:
    area_of(org)
    for bad in ("2026-13-01", "10/12/2026", "i morgon"):
        result = cli(
            runner, "walk", "create", "--org", org.slug, "--area", "centrum", "--date", bad
        )
        assert_clear_failure(result, "not a date")
    assert db.session.query(Walk).count() == 0


def test_walk_protocol_writes_the_file(runner, client, org, device, tmp_path: Path) -> None:
    walk = make_walk(org)
    push_ok(client, device, observation(walk, stop=2, description="Buskage skymmer sikten"))
    target = tmp_path / "protokoll.html"
    data = ok_json(cli(runner, "walk", "protocol", str(walk.id), "--html", str(target), "--json"))
    assert data["observations"] == 1
    html = target.read_text(encoding="utf-8")
    assert html.startswith("<!doctype html>")
    assert "Buskage skymmer sikten" in html and "Gångtunneln" in html
    assert "Boende" in html  # participants by kind, in Swedish


def test_walk_protocol_refuses_an_unknown_walk(runner, org, tmp_path: Path) -> None:
    result = cli(runner, "walk", "protocol", "999", "--html", str(tmp_path / "x.html"))
    assert_clear_failure(result, "no walk 999")
    assert not (tmp_path / "x.html").exists()


def test_walk_protocol_refuses_an_unwritable_file(runner, org, tmp_path: Path) -> None:
    walk = make_walk(org)
    result = cli(
        runner, "walk", "protocol", str(walk.id), "--html", str(tmp_path / "saknas" / "x.html")
    )
    assert_clear_failure(result, "cannot write")


def test_walk_create_output_is_json(runner, org) -> None:
    area_of(org)
    out = cli(
        runner,
        "walk",
        "create",
        "--org",
        org.slug,
        "--area",
        "centrum",
        "--date",
        "2026-12-10",
        "--json",
    ).output
    assert set(json.loads(out)) >= {"id"}
    assert walks.list_walks(org.id)[0].id == json.loads(out)["id"]
