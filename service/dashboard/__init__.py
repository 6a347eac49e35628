"""The operator dashboard under /dashboard: every request, what happened to it, and the actions
an operator takes on one (decide, withdraw, send the email again), updated live.

`blueprint` holds what every view shares; `auth` logs operators in and out; `views` shows the
list and one request; `actions` are the forms' POSTs; `live` tells open pages of changes;
`projects` shows the operator's projects and sets their default contact channels.
Importing the modules registers their routes on the one blueprint.
"""

from __future__ import annotations

from flask import Flask

from ..context import Runtime
from . import actions, live, projects, views
from .auth import init_sessions
from .blueprint import bp
from .live import init_streams

__all__ = ["actions", "bp", "init_app", "live", "projects", "views"]


def init_app(app: Flask, runtime: Runtime) -> None:
    init_sessions(app, runtime.secret_keys)
    init_streams(app)
    app.register_blueprint(bp)
