"""Liveness for load balancers, scripts and the test harness."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from .context import runtime

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> Response:
    runtime().database.ping()
    return jsonify(status="ok")
