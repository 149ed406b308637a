"""Category schemas."""

from __future__ import annotations

from marshmallow import Schema, fields


class CategoryOut(Schema):
    """A report category."""

    code = fields.String()
    label_sv = fields.String()
    label_en = fields.String()
    urgent = fields.Boolean()
    walk = fields.Boolean(metadata={"description": "Offered only on a safety walk."})
    order = fields.Integer(attribute="sort_order")
    active = fields.Boolean()
