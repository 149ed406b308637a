"""Application factory."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from flask import Flask

from server import models  # noqa: F401  (register every model with the metadata)
from server.alerts import worker as alerts_worker
from server.config import Settings, flask_config
from server.db import MIGRATIONS_DIR, init_engine
from server.digest import scheduler as digest_scheduler
from server.errors import register_error_handlers
from server.extensions import babel, csrf, db, login_manager, migrate
from server.headers import init_app as init_headers
from server.incidents import worker as grouping_worker
from server.incidents.grouping import load_rules as load_grouping_rules
from server.retention import worker as purge_scheduler
from server.translations import DEFAULT_LANGUAGE, compiled_directory
from server.workspace.i18n import select_locale


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Create the Flask app; `config` overrides settings read from the environment."""
    app = Flask(__name__, instance_relative_config=False, static_folder=None)
    overrides = dict(config or {})
    settings = Settings.from_env().with_overrides(overrides)
    app.config.update(flask_config(settings, app.instance_path))
    app.config.update(overrides)
    Path(app.config["DATA_DIR"]).mkdir(parents=True, exist_ok=True)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        Path(app.instance_path).mkdir(parents=True, exist_ok=True)

    db.init_app(app)
    migrate.init_app(app, db, directory=MIGRATIONS_DIR, render_as_batch=True)
    babel.init_app(
        app,
        default_locale=DEFAULT_LANGUAGE,
        default_timezone="Europe/Stockholm",
        default_translation_directories=str(compiled_directory()),
        locale_selector=select_locale,
    )
    login_manager.init_app(app)
    csrf.init_app(app)
    init_engine(app)
    load_grouping_rules(app)
    register_error_handlers(app)
    init_headers(app)  # nosniff, the API's no-store, HSTS over https
    _register_blueprints(app)
    _register_commands(app)
    logging.getLogger("lagesbild").setLevel(logging.INFO)
    digest_scheduler.init_app(app)  # only when DIGEST_SCHEDULER is on, never for the CLI
    purge_scheduler.init_app(app)  # likewise, PURGE_SCHEDULER
    grouping_worker.init_app(app)  # likewise, GROUPING_JOB (LAGESBILD_GROUPING=background)
    alerts_worker.init_app(app)  # likewise, ALERTS_SCHEDULER (urgent alerts, docs/alerts.md)
    return app


def _register_blueprints(app: Flask) -> None:
    """Attach every domain's blueprint."""
    from server.categories.views import bp as categories_bp
    from server.devices.views import bp as devices_bp
    from server.openapi import bp as openapi_bp
    from server.protocol.views import bp as reports_bp
    from server.protocol.views import photos_bp
    from server.pwa import bp as pwa_bp
    from server.workspace import bp as workspace_bp

    for bp in (
        devices_bp,
        reports_bp,
        photos_bp,
        categories_bp,
        openapi_bp,
        pwa_bp,
        workspace_bp,
    ):
        app.register_blueprint(bp)


def _register_commands(app: Flask) -> None:
    """Attach every domain's command group to the app's CLI."""
    from server.alerts.cli import vapid_group
    from server.commands.areas import areas
    from server.commands.backup import backup_command, restore_command
    from server.commands.check import check_command
    from server.commands.devices import device
    from server.commands.export import export
    from server.commands.incidents import incidents
    from server.commands.meta import rotate_epoch_command
    from server.commands.orgs import org
    from server.commands.reports import report
    from server.commands.retention import purge
    from server.commands.rounds import checkpoint, round_group
    from server.commands.sharing import share
    from server.commands.subject import subject
    from server.commands.users import user
    from server.commands.walks import walk
    from server.demo.cli import demo
    from server.digest.cli import digest, digest_settings

    for cmd in (
        org,
        user,
        device,
        demo,
        report,
        rotate_epoch_command,
        areas,
        incidents,
        digest,
        digest_settings,
        share,
        purge,
        subject,
        check_command,
        backup_command,
        restore_command,
        walk,
        export,
        checkpoint,
        round_group,
        vapid_group,
    ):
        app.cli.add_command(cmd)
