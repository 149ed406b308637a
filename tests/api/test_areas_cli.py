"""`lagesbild areas import|list` and `lagesbild incidents group` against a real database."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from sqlalchemy import select

from server.extensions import db
from server.geography import service as geography
from server.geography.models import Area
from server.incidents import areas
from server.incidents.models import Incident
from server.reports.models import Report
from tests.api.test_cli import assert_clear_failure, cli, ok_json
from tests.support import factories

DEMO_AREAS = Path(__file__).resolve().parents[2] / "server/demo/areas.geojson"
STATION = {"lat": 55.6398, "lon": 13.2083, "accuracy_m": 10.0}  # in Staffanstorp
HJARUP = {"lat": 55.6691, "lon": 13.1402, "accuracy_m": 10.0}


def area_name(report_id: str) -> str | None:
    """Return the name of the area a report is in."""
    area_id = db.session.scalar(select(Report.area_id).where(Report.id == uuid.UUID(report_id)))
    return db.session.get(Area, area_id).name if area_id else None


def test_areas_imported_later_still_locate_earlier_reports(runner, client, org, device):
    in_town = factories.report(location=STATION, place="Busskuren")
    in_hjarup = factories.report(location=HJARUP, place="Stationen")
    nowhere = factories.report(location=None, place="Okänd plats")
    client.post(
        "/api/v1/sync/push", json={"reports": [in_town, in_hjarup, nowhere]}, headers=device.headers
    )
    assert area_name(in_town["id"]) is None

    data = ok_json(
        cli(
            runner,
            "areas",
            "import",
            str(DEMO_AREAS),
            "--org",
            org.slug,
            "--code-property",
            "code",
            "--json",
        )
    )
    assert data == {"created": 3, "updated": 0, "located": 2}
    db.session.expire_all()
    assert area_name(in_town["id"]) == "Staffanstorp"
    assert area_name(in_hjarup["id"]) == "Hjärup"
    assert area_name(nowhere["id"]) is None
    incident_id = db.session.scalar(
        select(Report.incident_id).where(Report.id == uuid.UUID(in_town["id"]))
    )
    incident = db.session.get(Incident, incident_id)
    assert db.session.get(Area, incident.area_id).name == "Staffanstorp"

    listed = ok_json(cli(runner, "areas", "list", "--org", org.slug, "--json"))
    assert sorted(a["name"] for a in listed["areas"]) == ["Hjärup", "Kyrkheddinge", "Staffanstorp"]

    # A new report is located as it arrives; re-importing replaces, never duplicates.
    later = factories.report(location=HJARUP)
    client.post("/api/v1/sync/push", json={"reports": [later]}, headers=device.headers)
    assert area_name(later["id"]) == "Hjärup"
    later_incident = db.session.scalar(
        select(Report.incident_id).where(Report.id == uuid.UUID(later["id"]))
    )
    assert db.session.get(Area, db.session.get(Incident, later_incident).area_id).name == "Hjärup"
    again = ok_json(
        cli(
            runner,
            "areas",
            "import",
            str(DEMO_AREAS),
            "--org",
            org.slug,
            "--code-property",
            "code",
            "--json",
        )
    )
    assert again["created"] == 0 and again["updated"] == 3


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("not json", ["not a geojson"]),
        (json.dumps({"type": "FeatureCollection", "features": []}), ["not imported"]),
        (
            json.dumps(
                {
                    "type": "FeatureCollection",
                    "features": [
                        {
                            "type": "Feature",
                            "properties": {"name": "Gågatan"},
                            "geometry": {
                                "type": "LineString",
                                "coordinates": [[13.2, 55.6], [13.3, 55.7]],
                            },
                        }
                    ],
                }
            ),
            ["not imported", "gågatan", "linestring"],
        ),
    ],
)
def test_a_bad_areas_file_is_refused_with_every_problem_named(
    runner, org, tmp_path, content, words
):
    path = tmp_path / "areas.geojson"
    path.write_text(content, encoding="utf-8")
    assert_clear_failure(cli(runner, "areas", "import", str(path), "--org", org.slug), *words)
    assert db.session.scalar(select(Area.id)) is None


def test_naming_a_place_links_the_reports_near_it(client, org, device):
    near = factories.report(location=STATION)
    far = factories.report(location=HJARUP)
    client.post("/api/v1/sync/push", json={"reports": [near, far]}, headers=device.headers)
    place = areas.create_place(org.id, "Busskuren", STATION["lat"], STATION["lon"], 80, None)
    db.session.expire_all()
    ids = {str(r.id): r.place_id for r in db.session.scalars(select(Report))}
    assert ids[near["id"]] == place.id and ids[far["id"]] is None
    with pytest.raises(geography.PlaceError):
        areas.create_place(org.id, "Busskuren", 55.6, 13.2, 80, None)
    with pytest.raises(geography.PlaceError):
        areas.create_place(org.id, "Långt bort", 55.6, 13.2, 5_000, None)


def test_incidents_group_picks_up_reports_the_grouping_has_not_seen(runner, client, org, device):
    r = factories.report(location=STATION)
    client.post("/api/v1/sync/push", json={"reports": [r]}, headers=device.headers)
    # As after a crash between the push's two transactions.
    db.session.execute(Report.__table__.update().values(incident_id=None))
    db.session.execute(Incident.__table__.delete())
    db.session.commit()
    data = ok_json(cli(runner, "incidents", "group", "--org", org.slug, "--json"))
    assert data["grouped"] == 1 and data["created"] == 1
    db.session.expire_all()
    assert db.session.scalar(select(Report.incident_id)) == uuid.UUID(r["id"])


def test_an_import_over_many_incidents_works_chunk_by_chunk(
    runner, client, org, device, monkeypatch
):
    import server.incidents.summary as summary

    monkeypatch.setattr(summary, "REFRESH_CHUNK", 2)  # five incidents: three chunks, let go
    reports = [
        factories.report(
            location={"lat": STATION["lat"] + i * 0.003, "lon": STATION["lon"], "accuracy_m": 5.0},
            place=f"Plats {i}",
        )
        for i in range(5)
    ]
    client.post("/api/v1/sync/push", json={"reports": reports}, headers=device.headers)
    ok_json(
        cli(
            runner,
            "areas",
            "import",
            str(DEMO_AREAS),
            "--org",
            org.slug,
            "--code-property",
            "code",
            "--json",
        )
    )
    db.session.expire_all()
    incidents = list(db.session.scalars(select(Incident)))
    assert len(incidents) == 5
    assert all(i.report_count == 1 for i in incidents)
    assert {db.session.get(Area, i.area_id).name for i in incidents} == {"Staffanstorp"}
