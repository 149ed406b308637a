"""Human labels for codes: categories (from the database), statuses, kinds, areas."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask import request

from server.categories.models import Category
from server.categories.service import list_categories
from server.geography.service import list_areas, list_places
from server.workspace.i18n import pick, t


def request_cache() -> dict[str, Any]:
    """Return a dict that lives exactly as long as the current request."""
    return request.environ.setdefault("lagesbild.workspace_cache", {})


def categories() -> list[Category]:
    """Return every category (retired ones too: old incidents still use them), in order."""
    cache = request_cache()
    if "categories" not in cache:
        cache["categories"] = list_categories()
    return cache["categories"]


def category_label(code: str) -> str:
    """Return a category's label in the request's language (the code if unknown)."""
    for category in categories():
        if category.code == code:
            return pick(category.label_sv, category.label_en)
    return code


def status_label(status: str | None) -> str:
    """Return an incident status's label ("ny", "bedömd" …)."""
    return t(f"status.{status}") if status else ""


def responsible_label(responsible: str | None) -> str:
    """Return the label of a responsible organisation, or "not set"."""
    return t(f"responsible.{responsible}") if responsible else t("responsible.none")


def kind_label(kind: str) -> str:
    """Return a reporter kind's label (väktare, fältare, nattvandrare) — never a name."""
    return t(f"kind.{kind}")


def kinds_label(kinds: Iterable[str]) -> str:
    """Return the labels of several reporter kinds, comma separated."""
    return ", ".join(kind_label(k) for k in kinds)


def area_names(org_id: int) -> dict[int, str]:
    """Map the organisation's area ids to names."""
    cache = request_cache()
    key = f"areas-{org_id}"
    if key not in cache:
        cache[key] = {a.id: a.name for a in list_areas(org_id)}
    return cache[key]


def place_names(org_id: int) -> dict[int, str]:
    """Map the organisation's named places to their names."""
    return {p.id: p.name for p in list_places(org_id)}
