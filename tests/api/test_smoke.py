"""A first end-to-end pass through enrol, push and pull on both databases."""

from tests.support import factories


def test_push_then_pull_roundtrip(client, device):
    body = factories.report()
    resp = client.post("/api/v1/sync/push", json={"reports": [body]}, headers=device.headers)
    assert resp.status_code == 200
    assert resp.json["results"][0]["status"] == "created"
    resp = client.get("/api/v1/sync/pull", headers=device.headers)
    assert resp.status_code == 200
    assert [r["id"] for r in resp.json["reports"]] == [body["id"]]
    assert resp.json["reset"] is True
