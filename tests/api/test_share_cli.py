"""`lagesbild share …`: make, list and revoke sharing agreements, with clear refusals."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from server.extensions import db
from server.incidents import areas as area_service
from server.sharing import service
from server.sharing.models import SharingAgreement
from tests.api.test_cli import assert_clear_failure, cli, ok_json
from tests.support import factories

SQUARE = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "properties": {"name": "Centrum", "code": "centrum"},
            "geometry": {
                "type": "Polygon",
                "coordinates": [
                    [[13.2, 55.6], [13.3, 55.6], [13.3, 55.7], [13.2, 55.7], [13.2, 55.6]]
                ],
            },
        }
    ],
}


@pytest.fixture
def pair(app):
    housing = factories.make_org("Mjölbostäder", kind="bostadsbolag")
    town = factories.make_org("Mjölby kommun")
    area_service.import_areas(housing.id, SQUARE, code_property="code")
    return housing, town


def test_share_with_limits_and_an_end_date(runner, pair) -> None:
    housing, town = pair
    out = ok_json(
        cli(runner, "share", "--from", "Mjölbostäder", "--to", town.slug,
            "--categories", "skadegorelse,brand", "--areas", "centrum",
            "--detail", "reports", "--until", "2099-06-30", "--json")
    )  # fmt: skip
    assert out["from"] == {"id": housing.id, "slug": housing.slug, "kind": "bostadsbolag"}
    assert out["to"]["slug"] == town.slug and out["detail"] == "reports"
    assert out["categories"] == ["brand", "skadegorelse"] and out["areas"] == ["centrum"]
    # Through the whole last day, Stockholm time (CEST in June: 22:00 UTC).
    assert datetime.fromisoformat(out["ends_at"]) == datetime(2099, 6, 30, 22, 0, tzinfo=UTC)
    assert out["in_force"] is True and out["revoked_at"] is None
    row = db.session.get(SharingAgreement, out["id"])
    assert (row.from_org_id, row.to_org_id) == (housing.id, town.id)


def test_list_by_organisation_and_revoke(runner, pair) -> None:
    housing, town = pair
    other = factories.make_org("Polisen", kind="polis")
    first = ok_json(cli(runner, "share", "--from", housing.slug, "--to", town.slug,
                        "--detail", "counts", "--json"))  # fmt: skip
    ok_json(cli(runner, "share", "--from", other.slug, "--to", housing.slug,
                "--detail", "full", "--json"))  # fmt: skip
    listed = ok_json(cli(runner, "share", "list", "--org", town.slug, "--json"))
    assert [a["id"] for a in listed["agreements"]] == [first["id"]]
    assert len(ok_json(cli(runner, "share", "list", "--json"))["agreements"]) == 2
    revoked = ok_json(cli(runner, "share", "revoke", str(first["id"]), "--json"))
    assert revoked["revoked_at"] and revoked["in_force"] is False
    # Revoking takes effect at once: nothing is granted to the town any more.
    assert service.granted_to(town.id) == []
    assert [a.from_org for a in service.granted_to(housing.id)] == [other.id]
    text = cli(runner, "share", "list")
    assert text.exit_code == 0 and "revoked" in text.output and "in force" in text.output


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--to", "Mjölby kommun", "--detail", "full"], ["--from"]),
        (["--from", "Mjölbostäder", "--to", "Mjölbostäder", "--detail", "full"], ["own"]),
        (["--from", "Mjölbostäder", "--to", "Mjölby kommun", "--detail", "all"], ["detail"]),
        (["--from", "Mjölbostäder", "--to", "Ingen", "--detail", "full"], ["no organisation"]),
        (["--from", "Mjölbostäder", "--to", "Mjölby kommun", "--detail", "full",
          "--categories", "ufo"], ["unknown category", "ufo"]),
        (["--from", "Mjölbostäder", "--to", "Mjölby kommun", "--detail", "full",
          "--areas", "norr"], ["unknown area", "norr"]),
        (["--from", "Mjölbostäder", "--to", "Mjölby kommun", "--detail", "full",
          "--categories", ","], ["at least one"]),
        (["--from", "Mjölbostäder", "--to", "Mjölby kommun", "--detail", "full",
          "--until", "2020-01-01"], ["passed"]),
        (["--from", "Mjölbostäder", "--to", "Mjölby kommun", "--detail", "full",
          "--until", "31/12/2027"], ["until"]),
    ],
)  # fmt: skip
def test_refusals_are_clear_and_store_nothing(runner, pair, args, words) -> None:
    assert_clear_failure(cli(runner, "share", *args), *words)
    assert db.session.query(SharingAgreement).count() == 0


def test_revoking_an_unknown_agreement_is_a_clear_error(runner, pair) -> None:
    assert_clear_failure(cli(runner, "share", "revoke", "12345"), "no agreement")


def test_an_agreement_ending_today_still_applies_until_midnight(pair) -> None:
    housing, town = pair
    row = service.share(housing, town, "full", until=date(2099, 1, 1))
    assert service.to_rule(row).in_force(datetime(2099, 1, 1, 22, 59, tzinfo=UTC))
    assert not service.to_rule(row).in_force(datetime(2099, 1, 1, 23, 0, tzinfo=UTC))


def test_share_changes_are_in_both_organisations_audit_logs(runner, pair) -> None:
    from server.audit.models import AuditEntry

    housing, town = pair
    made = ok_json(cli(runner, "share", "--from", housing.slug, "--to", town.slug,
                       "--detail", "counts", "--json"))  # fmt: skip
    ok_json(cli(runner, "share", "revoke", str(made["id"]), "--json"))
    ok_json(cli(runner, "share", "revoke", str(made["id"]), "--json"))  # again: no new entry
    for org in (housing, town):
        rows = db.session.query(AuditEntry).filter_by(org_id=org.id).order_by(AuditEntry.id).all()
        changes = [(r.action, r.person_id, r.client_address) for r in rows
                   if r.action.startswith("sharing.")]  # fmt: skip
        assert changes == [("sharing.create", None, None), ("sharing.revoke", None, None)]
        assert all(f"{made['id']} {housing.slug} -> {town.slug}" in r.target
                   for r in rows if r.action.startswith("sharing."))  # fmt: skip
