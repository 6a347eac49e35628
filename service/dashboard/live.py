"""Live updates: open list pages hear when a request in the operator's view is created or changes.

The stream is server-sent events, each carrying the newest audit event's id; the page reloads its
list when that grows. A stream ends after a short while and the browser reconnects, so it never
holds a thread for long; `/changes` answers the same question once, for pages that poll instead.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator

from flask import Response, g, jsonify

from ..context import db, runtime
from ..store import listing
from .blueprint import bp

STREAM_SECONDS = 25.0
CHECK_EVERY_SECONDS = 1.0
KEEP_ALIVE_SECONDS = 10.0
RECONNECT_MILLISECONDS = 1000


@bp.get("/stream")
def stream() -> Response:
    sessions = runtime().database.sessions
    scope = g.operator.project_id

    def latest() -> int:
        with sessions() as session:
            return listing.latest_change(session, scope)

    response = Response(_events(latest), mimetype="text/event-stream")
    response.headers["X-Accel-Buffering"] = "no"  # a proxy in front must not hold events back
    return response


@bp.get("/changes")
def changes() -> Response:
    return jsonify(latest=listing.latest_change(db(), g.operator.project_id))


def _events(latest: Callable[[], int]) -> Iterator[str]:
    yield f"retry: {RECONNECT_MILLISECONDS}\n\n"
    ends = time.monotonic() + STREAM_SECONDS
    sent: int | None = None
    quiet_since = time.monotonic()
    while time.monotonic() < ends:
        now_latest = latest()
        if now_latest != sent:
            sent = now_latest
            quiet_since = time.monotonic()
            yield f"event: change\ndata: {json.dumps({'latest': sent})}\n\n"
        elif time.monotonic() - quiet_since >= KEEP_ALIVE_SECONDS:
            quiet_since = time.monotonic()
            yield ": still here\n\n"
        time.sleep(CHECK_EVERY_SECONDS)
