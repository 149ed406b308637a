"""Enrolment schemas."""

from marshmallow import Schema, fields, validate


class EnrolIn(Schema):
    """An enrolment request."""

    code = fields.String(
        required=True,
        validate=validate.Length(4, 64, error="The enrolment code has 12 letters and digits."),
    )


class OrganisationOut(Schema):
    """The device's organisation."""

    id = fields.Integer()
    name = fields.String()
    slug = fields.String()


class DeviceOut(Schema):
    """A device's identity."""

    id = fields.Integer()
    name = fields.String(attribute="display_name")
    kind = fields.String()
    organisation = fields.Nested(OrganisationOut)


class EnrolOut(Schema):
    """The answer to an enrolment: the token is shown exactly once."""

    token = fields.String(metadata={"description": "Bearer token for every later request."})
    device = fields.Nested(DeviceOut)


class WipedOut(Schema):
    """The answer to a phone that says it carried out a wipe."""

    wipe = fields.Boolean(
        metadata={"description": "True while a wipe is still ordered (never after this call)."}
    )
    wiped_at = fields.AwareDateTime(
        allow_none=True,
        metadata={"description": "When the server recorded the wipe; null if none was ordered."},
    )
