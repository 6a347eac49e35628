"""The project's own settings through the API: its default contact channel."""

from __future__ import annotations

from flask import Response, g, jsonify

from signoff.models import ContactChannel

from ..channels import UndeliverableChannel, destinations
from ..context import db
from ..errors import InvalidRequest, NotFound
from ..store.keys import default_channel, project_by_id, set_default_channel
from .blueprint import bp, parse_body, require_deciding_key

NO_DEFAULT = "this project has no default channel; set one with PUT on this URL"


@bp.get("/project/default_channel")
def get_default_channel() -> Response:
    return jsonify(_stored_or_404())


@bp.put("/project/default_channel")
def put_default_channel() -> Response:
    # Where the project's approvals go is the deciders' business, not an agent's.
    require_deciding_key()
    channel = parse_body(ContactChannel)
    try:
        destinations(channel)
    except UndeliverableChannel as exc:
        raise InvalidRequest(f"channel{exc}") from exc
    session = db()
    stored = channel.model_dump(mode="json")
    set_default_channel(project_by_id(session, g.project_id), stored)
    session.commit()
    return jsonify(stored)


@bp.delete("/project/default_channel")
def delete_default_channel() -> Response:
    require_deciding_key()
    removed = _stored_or_404()
    session = db()
    set_default_channel(project_by_id(session, g.project_id), None)
    session.commit()
    return jsonify(removed)


def _stored_or_404() -> dict:
    stored = default_channel(db(), g.project_id)
    if stored is None:
        raise NotFound(NO_DEFAULT)
    return stored
