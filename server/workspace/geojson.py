"""A GeoJSON FeatureCollection answered feature by feature, as jsonify would answer it whole.

The map's data holds up to 2,000 incident features. Built as one document of dicts first,
every feature's dict and its small strings lived at once until the whole text was
written: at 3,000 incidents about 10 MiB of small Python objects per request, whose
pymalloc arenas a worker kept, pinned by the odd object that outlived the request (issue 14's
soak: RSS grew with the largest map seen so far while its live objects stayed flat). Here
each feature is encoded as soon as it is built and its objects are freed before the next,
so the request holds text (one block per feature) instead of objects.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask import Response, current_app, jsonify

MIMETYPE = "application/geo+json"
_COMPACT = (",", ":")


def _writes_compact_sorted() -> bool:
    """Tell whether the app's JSON provider writes jsonify's answers compact, keys sorted."""
    provider = current_app.json
    compact = getattr(provider, "compact", None)
    pretty = (compact is None and current_app.debug) or compact is False
    return not pretty and getattr(provider, "sort_keys", False) is True


def feature_collection(features: Iterable[dict[str, Any]], properties: dict[str, Any]) -> Response:
    """Answer {"type": "FeatureCollection", ...} byte for byte as jsonify would."""
    if not _writes_compact_sorted():
        # Debug mode's indented text depends on the nesting: build it whole, as before.
        resp = jsonify(
            {"type": "FeatureCollection", "features": list(features), "properties": properties}
        )
        resp.mimetype = MIMETYPE
        return resp
    dumps = current_app.json.dumps
    # Keys sorted, as jsonify sorts them: "features" < "properties" < "type".
    parts = ['{"features":[']
    for n, feature in enumerate(features):
        if n:
            parts.append(",")
        parts.append(dumps(feature, separators=_COMPACT))
    parts.append('],"properties":')
    parts.append(dumps(properties, separators=_COMPACT))
    parts.append(',"type":"FeatureCollection"}\n')
    return Response("".join(parts), mimetype=MIMETYPE)
