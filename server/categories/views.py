"""Category list for devices."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from server.categories import service
from server.categories.schemas import CategoryOut
from server.devices.auth import device_required

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
    return {"categories": CategoryOut(many=True).dump(service.list_categories())}, 200
