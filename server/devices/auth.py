"""Bearer-token authentication for device endpoints."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from flask import g, request

from server.db import phase
from server.devices.models import Device
from server.devices.service import device_for_token, needs_touch, touch
from server.errors import ApiError

P = ParamSpec("P")
R = TypeVar("R")


def current_device() -> Device:
    """Return the device authenticated for this request."""
    return g.device


def bearer_token() -> str:
    """Return the request's device token, or answer 401 when there is none."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(
            401,
            "missing_token",
            "Send the device token as 'Authorization: Bearer <token>'.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return token.strip()


def device_required(view: Callable[P, R]) -> Callable[P, R]:
    """Require `Authorization: Bearer <token>` of an enrolled, not revoked device."""

    @functools.wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        token = bearer_token()
        with phase("read"):
            device = device_for_token(token)
        if needs_touch(device):
            with phase("write"):
                touch(device)
        g.device = device
        return view(*args, **kwargs)

    return wrapper
