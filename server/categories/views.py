"""Category list for devices."""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from sqlalchemy import select

from server.categories.models import Category
from server.devices.auth import device_required
from server.extensions import db
from server.reports.schemas import CategoryOut

bp = Blueprint("categories", __name__, url_prefix="/api/v1")


@bp.get("/categories")
@device_required
def categories() -> tuple[dict[str, Any], int]:
    """List the report categories.
    ---
    get:
      summary: The category list (also part of every pull)
      security: [{deviceToken: []}]
      responses:
        200: {description: Categories in display order}
    """
    rows = db.session.scalars(select(Category).order_by(Category.sort_order))
    return {"categories": CategoryOut(many=True).dump(rows)}, 200
