"""Probes for load balancers, orchestrators, scripts and the test harness.

`/healthz` says the process answers; it never touches the database, so a liveness probe
does not restart healthy nodes while the database blips. `/readyz` says whether this node
can do its work: the database answers and its schema is the one this release expects.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Response, jsonify
from sqlalchemy.exc import SQLAlchemyError

from .context import runtime

log = logging.getLogger(__name__)

bp = Blueprint("health", __name__)

UPGRADE_COMMAND = "signoff db upgrade"


@bp.get("/healthz")
def healthz() -> Response:
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz() -> Response | tuple[Response, int]:
    database = runtime().database
    try:
        database.ping()
        current = database.schema_is_current()
    except SQLAlchemyError as exc:
        log.warning("readyz: the database is unreachable: %s", exc)
        return _not_ready("database_unreachable", "the database does not answer; see the service log")
    if not current:
        return _not_ready(
            "schema_not_current",
            f"the database schema is not the one this release expects; run `{UPGRADE_COMMAND}`",
        )
    return jsonify(status="ready")


def _not_ready(error: str, detail: str) -> tuple[Response, int]:
    return jsonify(status="not_ready", error=error, detail=detail), 503
