"""The `signoff` command. Every subcommand reads the same config file and SIGNOFF_* env."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import TextIO

import click
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from signoff.models import WebhookSpec

from .channels import UndeliverableChannel, channel_of_kind
from .channels import describe as describe_channel
from .cli_ask import approve_run, ask
from .config import ConfigError, Settings, export_config_file, load_settings
from .logs import configure_logging
from .store import chat, events, schema, webhooks
from .store.db import Database
from .store.keys import (
    KeyRefused,
    create_api_key,
    get_or_create_project,
    keys_of_project,
    revoke_api_key,
    set_default_channel,
)
from .store.models import Project
from .store.types import utcnow
from .webhooks import PrivateTarget, refuse_private_target

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
    configure_logging(settings.log_level, settings.log_format, settings.secrets)
    ctx.obj = settings


@main.command()
@click.pass_obj
def serve(settings: Settings) -> None:
    """Run the web app, the inbound SMTP server and the workers in one process."""
    from .server import serve as serve_all

    serve_all(settings)


@main.command()
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Processes serving HTTP on the one port (use PostgreSQL when more than one).",
)
@click.pass_context
def web(ctx: click.Context, workers: int) -> None:
    """Serve HTTP only: the API, the decision pages and the long-polls."""
    from .server import web as serve_web

    config_file = ctx.parent.params.get("config_file") if ctx.parent else None
    if config_file and workers > 1:
        # Each forked worker loads the settings afresh, from the same file.
        export_config_file(config_file)
    serve_web(ctx.obj, workers)


@main.command()
@click.pass_obj
def smtpd(settings: Settings) -> None:
    """Receive replies only: the inbound SMTP server and the reading of replies."""
    from .server import smtpd as serve_smtp

    serve_smtp(settings)


@main.command()
@click.pass_obj
def worker(settings: Settings) -> None:
    """Deliver the outbox only (run any number, on one PostgreSQL)."""
    from .server import worker as run_worker

    run_worker(settings)


@main.command("mcp")
@click.option("--project", required=True, help="The project the requests belong to (created if new).")
@click.option("--email", help="Who is asked (default: mcp_email in the config, else the project's channel).")
@click.option(
    "--timeout",
    type=click.IntRange(min=0),
    help="Seconds a request waits before it is denied as unanswered (default: mcp_timeout_seconds).",
)
@click.pass_obj
def mcp_server(settings: Settings, project: str, email: str | None, timeout: int | None) -> None:
    """Serve MCP on stdin/stdout: request_approval and ask_human, beside a running `signoff serve`."""
    try:
        from .mcp.stdio import run_stdio
    except ImportError as exc:
        raise click.ClickException(
            f"signoff mcp needs the MCP SDK: pip install 'signoff[mcp]' ({exc})"
        ) from exc

    run_stdio(settings, project, email, timeout)


@main.group()
def keys() -> None:
    """Manage API keys."""


class Duration(click.ParamType):
    """A length of time: 45s, 30m, 12h, 90d or 2w (a bare number is seconds)."""

    name = "duration"
    UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> timedelta:
        if isinstance(value, timedelta):
            return value
        text = str(value).strip().lower()
        number, unit = (text[:-1], text[-1]) if text[-1:] in self.UNITS else (text, "s")
        if not number.isdigit() or int(number) == 0:
            self.fail(f"{value!r} is not a duration such as 45s, 30m, 12h, 90d or 2w", param, ctx)
        return timedelta(seconds=int(number) * self.UNITS[unit])


@keys.command("create")
@click.option("--project", required=True, help="The project the key belongs to (created if new).")
@click.option("--expires-in", type=Duration(), help="Make the key stop working after this long (e.g. 90d).")
@click.option(
    "--ask-only",
    is_flag=True,
    help="An agent's key: it creates and reads requests but cannot decide them through the API.",
)
@click.pass_obj
def create_key(settings: Settings, project: str, expires_in: timedelta | None, ask_only: bool) -> None:
    """Create an API key and print it (only the key, on stdout)."""
    expires_at = utcnow() + expires_in if expires_in else None
    with _session(settings) as session:
        project_row = get_or_create_project(session, project)
        key = create_api_key(session, project_row, expires_at, can_decide=not ask_only)
    log.info("created an API key for project %r", project)
    click.echo(key)


@keys.command("list")
@click.option("--project", required=True)
@click.pass_obj
def list_keys(settings: Settings, project: str) -> None:
    """List a project's keys: prefix, created, expires, state (never the keys themselves)."""
    with _session(settings) as session:
        now = utcnow()
        for key in keys_of_project(session, get_or_create_project(session, project).id):
            state = "active"
            if key.revoked_at is not None:
                state = f"revoked {key.revoked_at:%Y-%m-%d %H:%M}"
            elif key.expires_at is not None and key.expires_at <= now:
                state = "expired"
            expires = f"{key.expires_at:%Y-%m-%d %H:%M:%S}" if key.expires_at else "never"
            scope = "full" if key.can_decide else "ask-only"
            click.echo(f"{key.prefix}\t{scope}\t{key.created_at:%Y-%m-%d %H:%M}\texpires {expires}\t{state}")


@keys.command("revoke")
@click.argument("prefix")
@click.pass_obj
def revoke_key(settings: Settings, prefix: str) -> None:
    """Revoke the key that starts with PREFIX (as `keys list` shows it); it stops working at once."""
    try:
        with _session(settings) as session:
            key = revoke_api_key(session, prefix)
            shown = key.prefix
    except KeyRefused as exc:
        raise click.ClickException(str(exc)) from exc
    log.info("revoked API key %s…", shown)
    click.echo(f"revoked {shown}")


@main.group("projects")
def projects_group() -> None:
    """Manage projects."""


@projects_group.command("set-channel")
@click.option("--project", required=True, help="The project (created if new).")
@click.option("--email", help="Requests that name no channel are emailed to this address.")
@click.option("--slack", help="... or posted in this Slack channel (C...) or DM'd to this user (U...).")
@click.option("--discord", help="... or posted in this Discord channel (its id).")
@click.pass_obj
def set_channel(
    settings: Settings, project: str, email: str | None, slack: str | None, discord: str | None
) -> None:
    """Set the contact channel used when neither the call nor the SDK names one."""
    given = [
        (kind, target)
        for kind, target in (("email", email), ("slack", slack), ("discord", discord))
        if target
    ]
    if len(given) != 1:
        raise click.UsageError("give exactly one of --email, --slack or --discord")
    kind, target = given[0]
    try:
        channel = channel_of_kind(kind, target)
    except UndeliverableChannel as exc:
        raise click.BadParameter(str(exc).split(": ", 1)[1], param_hint=f"--{kind}") from exc
    with _session(settings) as session:
        set_default_channel(get_or_create_project(session, project), channel.model_dump(mode="json"))
    click.echo(f"project {project}: requests with no channel go to {describe_channel(channel)}")


@projects_group.command("set-token")
@click.option("--project", required=True, help="The project (created if new).")
@click.option(
    "--slack-bot-token", help="The project's Slack bot token (xoxb-...), used over slack_bot_token."
)
@click.option("--discord-bot-token", help="The project's Discord bot token, used over the config's.")
@click.pass_obj
def set_token(
    settings: Settings, project: str, slack_bot_token: str | None, discord_bot_token: str | None
) -> None:
    """Set the bot tokens the project's Slack and Discord messages are posted with."""
    given = {
        kind: token for kind, token in (("slack", slack_bot_token), ("discord", discord_bot_token)) if token
    }
    if not given:
        raise click.UsageError("give --slack-bot-token, --discord-bot-token or both")
    with _session(settings) as session:
        found = get_or_create_project(session, project)
        for kind, token in given.items():
            chat.set_project_bot_token(found, kind, token.strip())
    for kind in given:
        click.echo(f"project {project}: {kind.title()} bot token set")


@main.group("webhooks")
def webhooks_group() -> None:
    """Manage a project's webhooks."""


@webhooks_group.command("add")
@click.option("--project", required=True, help="The project whose events are posted (created if new).")
@click.option("--url", required=True, help="The http(s) URL to POST each event to.")
@click.pass_obj
def add_webhook(settings: Settings, project: str, url: str) -> None:
    """Register a webhook; prints its id, URL and signing secret (shown only now)."""
    try:
        spec = WebhookSpec(url=url)
    except ValidationError as exc:
        raise click.BadParameter(exc.errors()[0]["msg"], param_hint="--url") from exc
    try:
        refuse_private_target(spec.url, settings.webhook_private_addresses)
    except PrivateTarget as exc:
        raise click.BadParameter(str(exc), param_hint="--url") from exc
    with _session(settings) as session:
        webhook = webhooks.add_webhook(session, get_or_create_project(session, project).id, spec.url)
        click.echo(f"id: {webhook.id}\nurl: {webhook.url}\nsecret: {webhook.secret}")


@webhooks_group.command("list")
@click.option("--project", required=True)
@click.pass_obj
def list_webhooks(settings: Settings, project: str) -> None:
    """List a project's webhooks (without their secrets)."""
    with _session(settings) as session:
        for webhook in webhooks.active_webhooks(session, get_or_create_project(session, project).id):
            click.echo(f"{webhook.id}\t{webhook.url}\t{webhook.created_at.isoformat()}")


@contextmanager
def _session(settings: Settings) -> Iterator[Session]:
    database = Database(settings.database_url)
    try:
        database.prepare_schema()
        with database.sessions.begin() as session:
            yield session
    finally:
        database.dispose()


@main.group()
def audit() -> None:
    """Read the audit trail."""


@audit.command("export")
@click.option("--project", help="Only this project's events (default: every project).")
@click.option(
    "--output",
    type=click.File("w", encoding="utf-8"),
    default="-",
    help="The file to write (default: stdout).",
)
@click.pass_obj
def export_audit(settings: Settings, project: str | None, output: TextIO) -> None:
    """Write every event of every request as JSON lines, oldest first."""
    database = Database(settings.database_url)
    try:
        database.prepare_schema()
        with database.sessions() as session:
            project_id = None
            if project is not None:
                project_id = session.scalar(select(Project.id).where(Project.name == project))
                if project_id is None:
                    raise click.ClickException(f"no project named {project!r}")
            count = 0
            for row in events.export_rows(session, project_id):
                output.write(json.dumps(row, ensure_ascii=False) + "\n")
                count += 1
    finally:
        database.dispose()
    log.info("exported %d audit events", count)


@main.group()
def db() -> None:
    """Manage the store's schema."""


@db.command("upgrade")
@click.pass_obj
def upgrade_db(settings: Settings) -> None:
    """Bring the database's schema to this release (run once, before starting new processes)."""
    database = Database(settings.database_url)
    try:
        before, after = schema.upgrade(database.engine)
    finally:
        database.dispose()
    if before == after:
        click.echo(f"The database is already at revision {after}.")
    else:
        click.echo(f"Upgraded the database from revision {before or '(empty)'} to {after}.")


@db.command("status")
@click.pass_obj
def db_status(settings: Settings) -> None:
    """Say which schema revision the database is at; exit 1 unless it is current."""
    database = Database(settings.database_url)
    try:
        state = schema.read_state(database.engine)
    finally:
        database.dispose()
    if state.is_current:
        click.echo(f"The database is at revision {state.head}, as this release needs.")
        return
    raise click.ClickException(state.problem())


@main.command("config")
def show_default_config() -> None:
    """Print the documented default config file, to start your own from."""
    from .config import default_config_text

    click.echo(default_config_text(), nl=False)


main.add_command(ask)
main.add_command(approve_run)
