"""Shared helpers for the command line."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any

import click


def emit(as_json: bool, data: dict[str, Any], text: str) -> None:
    """Print a result as one JSON object or as text for people."""
    click.echo(json.dumps(data, ensure_ascii=False, default=str) if as_json else text)


def fail_on_value_error(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn a rule violation into a clear CLI error instead of a traceback."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (ValueError, LookupError) as exc:
            raise click.ClickException(str(exc)) from exc

    return wrapper


json_option = click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
