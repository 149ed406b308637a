"""What a phone learns about a planned walk in the pull (no participants, no names)."""

from __future__ import annotations

from marshmallow import Schema, fields


class StopOut(Schema):
    """A numbered stop of a walk."""

    number = fields.Integer()
    name = fields.String()
    lat = fields.Float(allow_none=True)
    lon = fields.Float(allow_none=True)


class WalkOut(Schema):
    """A planned walk the device's organisation has, for the phone's walk mode."""

    id = fields.Integer()
    area = fields.String(allow_none=True, metadata={"description": "The area's name."})
    date = fields.Date(metadata={"description": "The walk's calendar day (local)."})
    dark = fields.Boolean(metadata={"description": "True for a walk after dark."})
    route = fields.Dict(
        allow_none=True, metadata={"description": "A GeoJSON LineString ([lon, lat] points)."}
    )
    stops = fields.List(fields.Nested(StopOut))
