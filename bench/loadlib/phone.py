"""The requests a phone makes in a sync pass, each checked as the field app checks it.

Every call goes through locust's client with `catch_response`, so an answer the app would not
accept (a wrong status, a report not acknowledged as created, a photo still missing) is a
failure in the figures, not only a transport error.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from bench.loadlib.photos import PhotoFile
from bench.loadlib.stats import Recorder

PUSH_PATH = "/api/v1/sync/push"
PULL_PATH = "/api/v1/sync/pull"
PHOTO_PATH = "/api/v1/photos/"
# Request kinds, as printed.
PUSH, PULL, PHOTO_UP, PHOTO_DOWN = "push", "pull", "photo upload", "photo download"
MAX_PULL_PAGES = 20  # a device's own changes fit in one or two pages; more means a loop


def why(resp: Any) -> str:
    """Describe a failed answer: its status and body, or the transport error (status 0)."""
    if not resp.status_code:
        return f"no answer: {resp.error!r}"[:200]
    return f"status {resp.status_code}: {(resp.text or '')[:160]}"


def auth(token: str) -> dict[str, str]:
    """Return the bearer header of a device."""
    return {"Authorization": f"Bearer {token}"}


def upload_photo(client: Any, token: str, photo: PhotoFile, recorder: Recorder) -> None:
    """PUT the photo's bytes under their SHA-256, as pwa/sync-photos.js does."""
    body = Path(photo.path).read_bytes()
    headers = {**auth(token), "Content-Type": "image/jpeg"}
    with client.request(
        "PUT",
        PHOTO_PATH + photo.sha256,
        name=PHOTO_UP,
        data=body,
        headers=headers,
        catch_response=True,
    ) as resp:
        if resp.status_code == 201:
            recorder.stored_photos += 1
        elif resp.status_code != 200:  # 200: stored already (a retried pass)
            resp.failure(why(resp))


def push(client: Any, token: str, reports: list[dict[str, Any]], recorder: Recorder) -> None:
    """POST the reports in one batch and check that each came back created."""
    body = json.dumps({"reports": reports}, ensure_ascii=False).encode()
    headers = {**auth(token), "Content-Type": "application/json"}
    with client.request(
        "POST", PUSH_PATH, name=PUSH, data=body, headers=headers, catch_response=True
    ) as resp:
        if resp.status_code != 200:
            resp.failure(why(resp))
            return
        results = json.loads(resp.content)["results"]
        bad = [r for r in results if r.get("status") != "created" or r.get("missing_photos")]
        sent = [r["id"] for r in reports]
        if [r.get("id") for r in results] != sent or bad:
            resp.failure(f"unexpected results: {json.dumps(bad[:2])[:200]}")
            return
        recorder.acked_reports += len(results)


def pull(client: Any, token: str, cursor: str | None, pending: int) -> str | None:
    """Pull the device's changes page by page (pwa/sync-pull.js); return the new cursor."""
    for page in range(MAX_PULL_PAGES):
        params: dict[str, str] = {"cursor": cursor} if cursor else {}
        if page == 0:
            params["pending"] = str(pending)
        query = "?" + urlencode(params) if params else ""
        with client.request(
            "GET", PULL_PATH + query, name=PULL, headers=auth(token), catch_response=True
        ) as resp:
            if resp.status_code != 200:
                resp.failure(why(resp))
                return cursor
            body = json.loads(resp.content)
        cursor = body.get("cursor") or cursor
        if not body.get("more"):
            return cursor
    return cursor


def download_photo(client: Any, token: str, sha256: str, size: str = "thumb") -> None:
    """GET one of the device's photos, as the report list shows it."""
    with client.request(
        "GET",
        f"{PHOTO_PATH}{sha256}?size={size}",
        name=PHOTO_DOWN,
        headers=auth(token),
        catch_response=True,
    ) as resp:
        if resp.status_code != 200 or not (resp.content or b"").startswith(b"\xff\xd8"):
            resp.failure(why(resp) if resp.status_code != 200 else "not a JPEG")
