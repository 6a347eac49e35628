"""The Flask application factory."""

from __future__ import annotations

from flask import Flask, Response

from . import api, dashboard, devmail, health, metrics, pages
from .chat.discord import interactions as discord_interactions
from .chat.slack import blueprint as slack
from .context import EXTENSION_KEY, Runtime, close_db
from .error_handlers import register_error_handlers

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    # Links carry tokens: never leak them to another site through Referer.
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'",
    "Cache-Control": "no-store",
}


def create_app(runtime: Runtime) -> Flask:
    app = Flask("signoff_service", template_folder="templates", static_folder="templates/static")
    app.config["MAX_CONTENT_LENGTH"] = runtime.settings.max_request_bytes
    app.extensions[EXTENSION_KEY] = runtime
    app.teardown_appcontext(close_db)
    app.register_blueprint(api.bp)
    app.register_blueprint(api.openapi.bp)
    app.register_blueprint(pages.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(discord_interactions.bp)
    app.register_blueprint(slack.bp)
    dashboard.init_app(app, runtime)
    if runtime.settings.uses_dev_mailbox:
        app.register_blueprint(devmail.bp)
    if runtime.settings.metrics_enabled:
        metrics.init_app(app, runtime)
    register_error_handlers(app)
    app.after_request(_add_security_headers)
    return app


def _add_security_headers(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response
