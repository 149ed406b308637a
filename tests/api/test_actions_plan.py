"""The åtgärdsplan page, its exports and the weekly EST export; who sees which action."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from server.actions import service as actions
from server.actions.schemas import action_in, status_in
from server.audit.service import CLI, Actor
from tests.support.actions import PLAN, action_id, days, move, propose, stored
from tests.support.sharing import SharedScene, make_shared_scene
from tests.support.workspace import (  # noqa: F401  (cheap_hashing is a fixture)
    Scene,
    cheap_hashing,
    login,
    make_scene,
)

pytestmark = pytest.mark.usefixtures("cheap_hashing")


@pytest.fixture
def scene(app: Flask) -> Scene:
    """An organisation with a coordinator and two incidents of last night."""
    return make_scene("coordinator")


@pytest.fixture
def coordinator(app: Flask, scene: Scene) -> FlaskClient:
    """A logged-in coordinator of the scene's organisation."""
    client = app.test_client()
    assert login(client, scene.who).status_code == 302
    return client


def _plan(client: FlaskClient, query: str = "") -> str:
    """Open the plan page and return its HTML."""
    resp = client.get(f"{PLAN}?{query}" if query else PLAN)
    assert resp.status_code == 200
    return resp.get_data(as_text=True)


def test_overdue_actions_are_counted_and_marked(coordinator: FlaskClient, scene: Scene) -> None:
    late = action_id(propose(coordinator, text="Laga lampan", due_date=days(-2)))
    later = action_id(propose(coordinator, text="Måla över klottret", due_date=days(10)))
    done = action_id(propose(coordinator, text="Sopa glaset", due_date=days(-5)))
    move(coordinator, done, "avslagen", reason="Redan gjort av kommunen")
    page = _plan(coordinator)
    assert 'id="overdue-count"' in page
    count = page.split('id="overdue-count"')[1].split("</p>")[0]
    assert '<span class="card-number">1</span>' in count and "card-urgent" in page
    assert f'<tr class="overdue" data-action="{late}">' in page
    assert f'<tr class="" data-action="{later}">' in page
    assert f'<tr class="" data-action="{done}">' in page
    # Open actions by due date (the overdue first), the finished ones last.
    order = [page.index(f'data-action="{n}"') for n in (late, later, done)]
    assert order == sorted(order)
    only = _plan(coordinator, "overdue=1")
    assert f'data-action="{late}"' in only and f'data-action="{later}"' not in only


def test_the_plan_filters_by_owner_status_area_and_source(
    coordinator: FlaskClient, scene: Scene
) -> None:
    from_incident = action_id(
        propose(coordinator, text="A", incident_id=str(scene.first), owner_kind="polis")
    )
    from_report = action_id(propose(coordinator, text="B", report_id=scene.second_report))
    without = action_id(propose(coordinator, text="C", owner_kind="fastighetsagare"))
    move(coordinator, without, "beslutad")

    def shown(query: str) -> set[int]:
        page = _plan(coordinator, query)
        return {n for n in (from_incident, from_report, without) if f'data-action="{n}"' in page}

    assert shown("") == {from_incident, from_report, without}
    assert shown("owner=polis") == {from_incident}
    assert shown("status=beslutad") == {without}
    assert shown("source=incidents") == {from_incident}
    assert shown("source=reports") == {from_report}
    assert shown("source=none") == {without}
    assert shown("owner=okand&status=x&source=y") == {from_incident, from_report, without}


def test_the_plan_pages_and_refuses_a_bad_page(coordinator: FlaskClient, scene: Scene) -> None:
    for n in range(51):
        actions.create(scene.org.id, action_in(f"Åtgärd {n}", "kommun"), CLI)
    first = _plan(coordinator)
    assert first.count("data-action=") == 50 and 'rel="next"' in first
    assert _plan(coordinator, "page=2").count("data-action=") == 1
    assert coordinator.get(f"{PLAN}?page=noll").status_code == 400


def _csv(body: bytes) -> list[list[str]]:
    """Parse a Swedish Excel CSV after checking its BOM and line ends."""
    assert body.startswith(b"\xef\xbb\xbf")
    assert b"\r\n" in body and b"\n" not in body.replace(b"\r\n", b"")
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig")), delimiter=";"))


def test_the_plan_exports_csv_for_swedish_excel(coordinator: FlaskClient, scene: Scene) -> None:
    number = action_id(
        propose(
            coordinator,
            text="Beskär häcken så att sikten blir fri; ring Gärdesgården",
            owner_name="Gatukontoret, park och natur",
            due_date="2026-12-24",
            incident_id=str(scene.first),
        )
    )
    resp = coordinator.get(f"{PLAN}.csv")
    assert resp.status_code == 200 and "attachment" in resp.headers["Content-Disposition"]
    rows = _csv(resp.data)
    assert rows[0][:3] == ["Nr", "Åtgärd", "Ägare"]
    row = rows[1]
    assert row[0] == str(number)
    assert row[1] == "Beskär häcken så att sikten blir fri; ring Gärdesgården"
    assert row[3] == "Gatukontoret, park och natur"
    assert row[5] == "föreslagen" and row[6] == "2026-12-24"


def test_the_plan_exports_geojson_at_the_first_located_source(
    coordinator: FlaskClient, scene: Scene
) -> None:
    located = action_id(propose(coordinator, text="Med plats", report_id=scene.second_report))
    unlocated = action_id(propose(coordinator, text="Utan plats"))
    resp = coordinator.get(f"{PLAN}.geojson")
    assert resp.status_code == 200
    features = {f["properties"]["id"]: f for f in json.loads(resp.data)["features"]}
    assert features[located]["geometry"] == {"type": "Point", "coordinates": [13.23, 55.65]}
    assert features[unlocated]["geometry"] is None
    assert features[located]["properties"]["status"] == "foreslagen"


def _iso_week(day: str) -> str:
    """Return the ISO week of a YYYY-MM-DD date as YYYY-Www."""
    from datetime import date

    iso = date.fromisoformat(day).isocalendar()
    return f"{iso.year}-W{iso.week:02d}"


def _week_of_last_night() -> str:
    """Return the ISO week the scene's reports (last night, 20:00 local) fall in."""
    from tests.support.factories import last_night_at

    return _iso_week(last_night_at(20).date().isoformat())


def test_the_est_export_keeps_swedish_letters_and_rounds_positions(
    coordinator: FlaskClient, scene: Scene
) -> None:
    propose(coordinator, text="Lampa", report_id=scene.second_report)
    week = _week_of_last_night()
    resp = coordinator.get(f"/workspace/export/est?week={week}")
    assert resp.status_code == 200
    assert resp.data.startswith(b"\xef\xbb\xbf")
    assert "Skadegörelse".encode() in resp.data and "område".encode() in resp.data
    rows = _csv(resp.data)
    assert rows[0] == [
        "vecka", "datum", "tid", "typ", "kategori", "område", "lat", "lon",
        "rapportörens organisation",
    ]  # fmt: skip
    body = rows[1:]
    kinds = [r[3] for r in body]
    assert kinds.count("rapport") == 3
    assert all(r[0] == week for r in body if r[3] == "rapport")
    miljo = next(r for r in body if r[4] == "Brister i miljön" and r[3] == "rapport")
    assert (miljo[6], miljo[7]) == ("55,65", "13,23")
    skada = next(r for r in body if r[4] == "Skadegörelse")
    assert (skada[6], skada[7]) == ("55,64", "13,208")  # 55.6398, 13.2083 rounded
    assert all(r[8] == "kommun" for r in body)
    # No free text and no device name leaves in the export.
    assert "busskuren" not in resp.data.decode("utf-8-sig").lower()


def test_the_est_export_refuses_a_bad_week(coordinator: FlaskClient) -> None:
    # 0001-W01 answered 500 (its Monday overflowed the conversion to UTC).
    for week in ("2026-49", "2026-W54", "vecka 49", "2026-W00", "0001-W01", "9999-W52"):
        resp = coordinator.get(f"/workspace/export/est?week={week}")
        assert resp.status_code == 400
        assert "ÅÅÅÅ-Vnn" in resp.get_data(as_text=True)


def test_the_est_command_writes_the_week(
    runner: FlaskCliRunner, scene: Scene, tmp_path: Path
) -> None:
    out = tmp_path / "est.csv"
    week = _week_of_last_night()
    result = runner.invoke(
        args=["export", "est", "--org", scene.org.slug, "--week", week, "--out", str(out), "--json"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["rows"] == 3
    data = out.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf") and "Skadegörelse".encode() in data
    bad = runner.invoke(
        args=["export", "est", "--org", scene.org.slug, "--week", "49", "--out", str(out)]
    )
    assert bad.exit_code != 0 and "YYYY-Www" in bad.output


# --- who sees which action ------------------------------------------------------------------


@pytest.fixture
def shared(app: Flask) -> SharedScene:
    """Four organisations and their agreements (tests/support/sharing.py)."""
    return make_shared_scene()


def _action(org_id: int, text: str, **sources: list[str]) -> int:
    """Create an action of an organisation from sources."""
    return actions.create(org_id, action_in(text, "kommun", **sources), CLI).id


def test_shared_actions_follow_the_agreements_of_their_sources(
    app: Flask, shared: SharedScene
) -> None:
    vakt_incident = _action(
        shared.vakt.org.id, "VAKTTEXT åtgärd", incident_ids=[str(shared.vakt.incidents["miljo"])]
    )
    vakt_none = _action(shared.vakt.org.id, "VAKTTEXT utan källa")
    hus_damage = _action(
        shared.hus.org.id,
        "HUSTEXT skada",
        incident_ids=[str(shared.hus.incidents["skadegorelse"])],
    )
    hus_env = _action(shared.hus.org.id, "HUSTEXT miljö", report_ids=[shared.hus.reports["miljo"]])
    hus_none = _action(shared.hus.org.id, "HUSTEXT utan källa")
    annan = _action(shared.annan.org.id, "ANNANTEXT")
    client = app.test_client()
    login(client, shared.kommun.persons["coordinator"])
    page = _plan(client)
    for visible in (vakt_incident, vakt_none, hus_damage):
        assert f'data-action="{visible}"' in page
    for hidden in (hus_env, hus_none, annan):
        assert f'data-action="{hidden}"' not in page
    # Under a `reports` agreement the action's text stays with its owner.
    assert "VAKTTEXT åtgärd" in page and "HUSTEXT" not in page
    assert "badge-shared" in page
    for hidden in (hus_env, hus_none, annan):
        assert client.get(f"{PLAN}/{hidden}").status_code == 404
    shared_page = client.get(f"{PLAN}/{hus_damage}").get_data(as_text=True)
    assert "HUSTEXT" not in shared_page and "Delad åtgärd" in shared_page
    # A partner's timeline names the owner, never the owner's person.
    vakt_person = shared.vakt.persons["coordinator"]
    actions.set_status(
        shared.vakt.org.id,
        vakt_incident,
        status_in("beslutad"),
        Actor(vakt_person.person.id, None),
    )
    full_page = client.get(f"{PLAN}/{vakt_incident}").get_data(as_text=True)
    assert "VAKTTEXT åtgärd" in full_page and "föreslagen → beslutad" in full_page
    assert vakt_person.email not in full_page and shared.vakt.org.name in full_page
    # The exports hold the same rows and texts as the page.
    exported = client.get(f"{PLAN}.csv").data.decode("utf-8-sig")
    assert (
        "VAKTTEXT åtgärd" in exported and "HUSTEXT" not in exported and "ANNANTEXT" not in exported
    )


@pytest.mark.parametrize(
    ("who", "sees", "changes"),
    [
        ("own-coordinator", 200, 302),
        ("own-viewer", 200, 403),
        ("partner-coordinator", 200, 404),
        ("unrelated-coordinator", 404, 404),
        ("logged-out", 302, 302),
    ],
)
def test_the_permissions_of_an_action(
    app: Flask, shared: SharedScene, who: str, sees: int, changes: int
) -> None:
    # The guard company's action, shared with the municipality in full.
    number = _action(
        shared.vakt.org.id, "VAKTTEXT", incident_ids=[str(shared.vakt.incidents["skadegorelse"])]
    )
    party, role = {
        "own-coordinator": ("vakt", "coordinator"),
        "own-viewer": ("vakt", "viewer"),
        "partner-coordinator": ("kommun", "coordinator"),
        "unrelated-coordinator": ("annan", "coordinator"),
        "logged-out": ("", ""),
    }[who]
    client = app.test_client()
    if party:
        assert login(client, shared.party(party).persons[role]).status_code == 302
    else:
        client.get("/workspace/login")
    page = client.get(f"{PLAN}/{number}")
    assert page.status_code == sees
    if who == "logged-out":
        assert page.location.startswith("/workspace/login")
    resp = move(client, number, "beslutad")
    assert resp.status_code == changes
    expected = "beslutad" if who == "own-coordinator" else "foreslagen"
    assert stored(number).status == expected


def test_the_lagesbild_page_counts_the_action_plan(coordinator: FlaskClient) -> None:
    # Overdue on the day each lägesbild was due (at most a month ago).
    action_id(propose(coordinator, text="Försenad", due_date=days(-40)))
    for kind in ("week", "month"):
        page = coordinator.get(f"/workspace/lagesbild?kind={kind}").get_data(as_text=True)
        line = page.split('id="lagesbild-actions"')[1].split("</p>")[0]
        assert "1 är försenade" in line
    night = coordinator.get("/workspace/lagesbild?kind=night").get_data(as_text=True)
    assert 'id="lagesbild-actions"' not in night


def test_an_action_from_a_walk_observation_is_filtered_and_exported_as_a_walk(
    app: Flask, coordinator: FlaskClient, scene: Scene
) -> None:
    from tests.support.push import push_one
    from tests.support.walks import make_walk, observation

    walk = make_walk(scene.org)
    seen = observation(walk, stop=2)
    assert push_one(app.test_client(), scene.device, seen)["status"] == "created"
    from_walk = action_id(propose(coordinator, text="Byt lampan", report_id=seen["id"]))
    from_report = action_id(propose(coordinator, text="B", report_id=scene.second_report))
    page = _plan(coordinator, "source=walk")
    assert f'data-action="{from_walk}"' in page
    assert f'data-action="{from_report}"' not in page
    assert f'data-action="{from_walk}"' not in _plan(coordinator, "source=reports")
    iso = date.fromisoformat(seen["created_at"][:10]).isocalendar()
    resp = coordinator.get(f"/workspace/export/est?week={iso.year}-W{iso.week:02d}")
    kinds = [r[3] for r in _csv(resp.data)[1:]]
    assert kinds.count("trygghetsvandring") == 1


def test_a_shared_actions_owner_name_is_free_text_and_stays_with_its_owner(
    app: Flask, shared: SharedScene
) -> None:
    # From the review: the owner's name (which may name a person) showed below `full`.
    hus_damage = actions.create(
        shared.hus.org.id,
        action_in(
            "HUSTEXT skada",
            "fastighetsagare",
            owner_name="Förvaltare Anna Andersson",
            incident_ids=[str(shared.hus.incidents["skadegorelse"])],
        ),
        CLI,
    ).id
    client = app.test_client()
    login(client, shared.kommun.persons["coordinator"])
    assert f'data-action="{hus_damage}"' in _plan(client)
    for url in (PLAN, f"{PLAN}/{hus_damage}", f"{PLAN}.csv", f"{PLAN}.geojson"):
        body = client.get(url).data.decode("utf-8-sig")
        assert "Anna Andersson" not in body, url
