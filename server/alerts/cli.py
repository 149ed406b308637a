"""`lagesbild vapid generate FILE`: write a new VAPID key for urgent alerts' Web Push."""

from __future__ import annotations

from pathlib import Path

import click

from server.alerts import vapid


@click.group("vapid")
def vapid_group() -> None:
    """VAPID keys for Web Push (urgent alerts, docs/alerts.md)."""


@vapid_group.command("generate")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def generate(path: Path) -> None:
    """Write a new P-256 private key as PEM (mode 0600) and print its public key."""
    try:
        public = vapid.generate(path)
    except FileExistsError as exc:
        raise click.ClickException(
            f"{path} exists; a new key would end every subscription, remove it first"
        ) from exc
    except OSError as exc:
        raise click.ClickException(f"cannot write {path}: {exc.strerror or exc}") from exc
    click.echo(f"wrote {path}")
    click.echo(f"LAGESBILD_VAPID_PRIVATE_KEY={path}")
    click.echo(f"public key (applicationServerKey): {public}")
