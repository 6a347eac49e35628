"""A bare Flask app served the way `signoff web` serves ours: the yardstick for our own cost.

uvicorn, the same options, and a2wsgi's thread pool of the same size; one route reads a small
JSON document, one takes a JSON body and answers 201 with it. No store, no key, no model.

    python bench/bare_app.py PORT
"""

from __future__ import annotations

import sys

import uvicorn
from a2wsgi import WSGIMiddleware
from flask import Flask, jsonify, request

from signoff_service.asgi import WSGI_THREADS
from signoff_service.server import KEEP_ALIVE_SECONDS

STATUS = {
    "run_id": "bench",
    "call_id": "bare",
    "spec": {"fn": "transfer_funds", "kwargs": {"amount": 100, "to": "acct-7"}},
    "status": {"requested_at": "2026-12-04T00:00:00Z", "approved": None},
}


def create_app() -> Flask:
    app = Flask("bare")

    @app.get("/bare/<call_id>")
    def read(call_id: str):
        return jsonify(dict(STATUS, call_id=call_id))

    @app.post("/bare")
    def create():
        return jsonify(request.get_json()), 201

    @app.get("/healthz")
    def healthz():
        return jsonify(status="ok")

    return app


if __name__ == "__main__":
    uvicorn.run(
        WSGIMiddleware(create_app(), workers=WSGI_THREADS),  # type: ignore[arg-type]
        host="127.0.0.1",
        port=int(sys.argv[1]),
        lifespan="off",
        log_config=None,
        access_log=False,
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
    )
