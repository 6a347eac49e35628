"""Long-polls on a plain WSGI server, where the view itself waits (no event loop to hand off to)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from signoff_service.app import create_app
from signoff_service.config import load_settings
from signoff_service.context import Runtime
from signoff_service.store.keys import create_api_key, get_or_create_project

from signoff_testing import wait_until


@pytest.fixture
def app_and_key(tmp_path: Path) -> tuple[object, str]:
    settings = load_settings(
        environ={"SIGNOFF_DATABASE_URL": f"sqlite:///{tmp_path / 'wsgi.db'}", "SIGNOFF_SECRET_KEY": "k"}
    )
    runtime = Runtime.open(settings)
    with runtime.session() as session:
        key = create_api_key(session, get_or_create_project(session, "wsgi"))
    yield create_app(runtime), key
    runtime.close()


def create_call(app: object, headers: dict, call_id: str) -> object:
    channel = {"email": {"address": "a@example.com"}}
    body = {"run_id": "r", "call_id": call_id, "spec": {"fn": "f", "kwargs": {}, "channel": channel}}
    return app.test_client().post("/humanlayer/v1/function_calls", json=body, headers=headers)


def test_the_view_waits_and_wakes_when_another_thread_decides(app_and_key: tuple) -> None:
    app, key = app_and_key
    headers = {"Authorization": f"Bearer {key}"}
    assert create_call(app, headers, "c").status_code == 201

    pending = app.test_client().get("/humanlayer/v1/function_calls/c?wait=0.2", headers=headers)
    assert pending.status_code == 200 and pending.json["status"]["approved"] is None

    results = {}

    def long_poll() -> None:
        results["poll"] = app.test_client().get("/humanlayer/v1/function_calls/c?wait=30", headers=headers)

    waiter = threading.Thread(target=long_poll)
    waiter.start()
    runtime = app.extensions["signoff"]
    wait_until(lambda: runtime.hub.waiting == 1, what="the view to start waiting")
    decided = app.test_client().post(
        "/humanlayer/v1/agent/function_calls/c/respond", json={"approved": True}, headers=headers
    )
    assert decided.status_code == 200
    waiter.join(timeout=30)
    assert results["poll"].json["status"]["approved"] is True
    assert runtime.hub.waiting == 0


def test_only_our_asgi_layer_gets_a_wait_ticket(app_and_key: tuple) -> None:
    app, key = app_and_key
    headers = {"Authorization": f"Bearer {key}"}
    assert create_call(app, headers, "d").status_code == 201
    runtime = app.extensions["signoff"]

    spoofed = app.test_client().get(
        "/humanlayer/v1/function_calls/d?wait=0.1", headers={**headers, "X-Signoff-Async-Wait": "guess"}
    )
    assert "X-Signoff-Wait-Ticket" not in spoofed.headers and runtime.hub.waiting == 0

    ours = app.test_client().get(
        "/humanlayer/v1/function_calls/d?wait=5",
        headers={**headers, "X-Signoff-Async-Wait": runtime.async_wait_secret},
    )
    ticket = runtime.hub.ticket(int(ours.headers["X-Signoff-Wait-Ticket"]))
    assert ticket is not None and ours.headers["X-Signoff-Wait-Seconds"] == "5.0"
    runtime.hub.release(ticket)
