"""Alembic environment: run the migrations against the Flask app's database (Flask-Migrate)."""

import logging
from logging.config import fileConfig

from alembic import context
from flask import current_app

config = context.config
fileConfig(config.config_file_name)
logger = logging.getLogger("alembic.env")


def get_engine():
    """Return the app's engine."""
    return current_app.extensions["migrate"].db.engine


def get_engine_url():
    """Return the engine's URL with the password, escaped for the ini parser (%)."""
    return get_engine().url.render_as_string(hide_password=False).replace("%", "%%")


config.set_main_option("sqlalchemy.url", get_engine_url())
target_db = current_app.extensions["migrate"].db


def get_metadata():
    """Return the metadata autogenerate compares against."""
    return target_db.metadata


def run_migrations_offline():
    """Emit the migrations as SQL for a URL, without connecting."""
    url = config.get_main_option("sqlalchemy.url")
    context.configure(url=url, target_metadata=get_metadata(), literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    """Run the migrations over a connection of the app's engine."""

    # An autogenerate run that finds no change writes no empty revision file.
    def process_revision_directives(context, revision, directives):
        if getattr(config.cmd_opts, "autogenerate", False):
            script = directives[0]
            if script.upgrade_ops.is_empty():
                directives[:] = []
                logger.info("No changes in schema detected.")

    conf_args = current_app.extensions["migrate"].configure_args
    if conf_args.get("process_revision_directives") is None:
        conf_args["process_revision_directives"] = process_revision_directives

    with get_engine().connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # A batch migration recreates a table (copy, drop, rename); with foreign keys on,
            # dropping a table other rows point at fails. SQLite honours this pragma only
            # outside a transaction, so it goes to the driver before the migration's BEGIN;
            # the keys are checked once the migrations are done.
            raw = connection.connection.driver_connection
            raw.execute("PRAGMA foreign_keys = OFF")
        try:
            context.configure(connection=connection, target_metadata=get_metadata(), **conf_args)
            with context.begin_transaction():
                context.run_migrations()
            if sqlite:
                broken = raw.execute("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise RuntimeError(f"the migrations left broken foreign keys: {broken[:5]}")
        finally:
            if sqlite:
                raw.execute("PRAGMA foreign_keys = ON")


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
