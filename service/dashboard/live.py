"""Live updates: open list pages hear when a request in the operator's view is created or changes.

The stream is server-sent events, each carrying the newest audit event's id; the page reloads its
list when that grows. A stream ends after a short while and the browser reconnects, so it never
holds a thread for long; `/changes` answers the same question once, for pages that poll instead.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator

from flask import Flask, Response, current_app, g, jsonify

from ..context import db, runtime
from ..errors import SignoffHTTPError
from ..store import listing
from .blueprint import bp

STREAM_SECONDS = 25.0
CHECK_EVERY_SECONDS = 1.0
KEEP_ALIVE_SECONDS = 10.0
RECONNECT_MILLISECONDS = 1000
# Each open stream holds one of the process's view threads (16, service/asgi.py) for its
# lifetime, also after its tab closed: past this many, pages poll `/changes` instead.
MAX_STREAMS = 6
STREAMS_KEY = "signoff_dashboard_streams"


class TooManyStreams(SignoffHTTPError):
    status = 503
    error = "too_many_streams"


def init_streams(app: Flask) -> None:
    app.extensions[STREAMS_KEY] = threading.BoundedSemaphore(MAX_STREAMS)


@bp.get("/stream")
def stream() -> Response:
    sessions = runtime().database.sessions
    scope = g.operator.project_id

    def latest() -> int:
        with sessions() as session:
            return listing.latest_change(session, scope)

    slots: threading.BoundedSemaphore = current_app.extensions[STREAMS_KEY]
    if not slots.acquire(blocking=False):
        raise TooManyStreams(
            "Too many live streams are open; this page checks for changes every few seconds."
        )
    response = Response(_events(latest), mimetype="text/event-stream")
    response.call_on_close(slots.release)
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
