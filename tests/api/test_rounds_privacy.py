"""A device's guard round scans and runs are in its subject export and go with its deletion."""

from __future__ import annotations

import json

from flask import Flask
from sqlalchemy import func, select

from server.cli import main
from server.extensions import db
from server.rounds.models import CheckpointScan, RoundRun
from tests.support.rounds import checkpoint, push, round_over, run, scan


def _cli(app: Flask, *args: str):
    return app.test_cli_runner().invoke(main, list(args))


def test_export_and_delete_a_devices_scans_and_runs(app: Flask, client, org, device) -> None:
    cp = checkpoint(org.id)
    r = run(round_over(org.id, [cp]).id)
    s = scan(cp, round_run=r["id"])
    push(client, device, round_runs=[r], scans=[s])
    exported = json.loads(_cli(app, "subject", "export", "--device", str(device.device.id)).output)
    assert [x["id"] for x in exported["scans"]] == [s["id"]]
    assert exported["scans"][0]["lat"] == s["location"]["lat"]
    assert [x["id"] for x in exported["round_runs"]] == [r["id"]]
    result = _cli(app, "subject", "delete", "--device", str(device.device.id), "--yes", "--json")
    assert result.exit_code == 0, result.output
    done = json.loads(result.output)
    assert (done["scans_deleted"], done["round_runs_deleted"]) == (1, 1)
    db.session.expire_all()
    for model in (CheckpointScan, RoundRun):
        assert db.session.scalar(select(func.count()).select_from(model)) == 0
