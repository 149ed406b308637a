"""What a phone learns about a planned walk in the pull (no participants, no names)."""

from __future__ import annotations

from marshmallow import Schema, fields


class StopOut(Schema):
    """A numbered stop of a walk."""

    number = fields.Integer()
    name = fields.String()
    lat = fields.Float(allow_none=True)
    lon = fields.Float(allow_none=True)


class OpenObservationOut(Schema):
    """An observation of an earlier walk a follow-up walk marks åtgärdat or kvarstår."""

    id = fields.String(metadata={"description": "The observation's report id: a mark's follows."})
    category = fields.String()
    stop = fields.Integer(allow_none=True, metadata={"description": "Its stop number."})
    feeling = fields.String(allow_none=True)
    text = fields.String(metadata={"description": "The note, at most 140 characters."})
    lat = fields.Float(allow_none=True)
    lon = fields.Float(allow_none=True)
    photo = fields.String(
        allow_none=True, metadata={"description": "The SHA-256 of a photo (thumbnail) or null."}
    )


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
    follows = fields.Integer(
        allow_none=True, metadata={"description": "The earlier walk this one follows up, or null."}
    )
    open_observations = fields.List(
        fields.Nested(OpenObservationOut),
        metadata={
            "description": "A follow-up walk's open observations of the earlier walks, each "
            "to mark with follows and follow_up (atgardat / kvarstar); empty otherwise."
        },
    )
