"""Photo API schemas."""

from marshmallow import Schema, fields


class PhotoOut(Schema):
    """A stored photo's metadata."""

    sha256 = fields.String()
    format = fields.String(attribute="source_format")
    width = fields.Integer()
    height = fields.Integer()
    bytes = fields.Integer(metadata={"description": "Size of the upload in bytes."})
    created = fields.Boolean(metadata={"description": "False when it was already stored."})
