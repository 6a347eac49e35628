"""The `signoff` command. Every subcommand reads the same config file and SIGNOFF_* env."""

from __future__ import annotations

import logging
import sys

import click

from .cli_ask import approve_run, ask
from .config import ConfigError, Settings, load_settings
from .store.db import Database
from .store.keys import create_api_key, get_or_create_project

log = logging.getLogger("signoff_service")


@click.group()
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False),
    envvar="SIGNOFF_CONFIG",
    help="A TOML config file (default: the packaged defaults; SIGNOFF_* env vars win over both).",
)
@click.pass_context
def main(ctx: click.Context, config_file: str | None) -> None:
    """signoff: approvals and answers from humans, by email."""
    try:
        settings = load_settings(config_file)
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from exc
    logging.basicConfig(
        level=settings.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    ctx.obj = settings


@main.command()
@click.pass_obj
def serve(settings: Settings) -> None:
    """Run the web app, the inbound SMTP server and the workers in one process."""
    from .server import serve as serve_all

    serve_all(settings)


@main.group()
def keys() -> None:
    """Manage API keys."""


@keys.command("create")
@click.option("--project", required=True, help="The project the key belongs to (created if new).")
@click.pass_obj
def create_key(settings: Settings, project: str) -> None:
    """Create an API key and print it (only the key, on stdout)."""
    database = Database(settings.database_url)
    try:
        database.create_schema()
        with database.sessions.begin() as session:
            key = create_api_key(session, get_or_create_project(session, project))
    finally:
        database.dispose()
    log.info("created an API key for project %r", project)
    click.echo(key)


@main.command("config")
def show_default_config() -> None:
    """Print the documented default config file, to start your own from."""
    from .config import default_config_text

    click.echo(default_config_text(), nl=False)


main.add_command(ask)
main.add_command(approve_run)
