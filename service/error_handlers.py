"""One place that turns failures into responses: JSON under the API, a page elsewhere."""

from __future__ import annotations

import logging

from flask import Flask, Response, current_app, jsonify, render_template, request
from werkzeug.exceptions import HTTPException, InternalServerError, RequestEntityTooLarge

from .api import API_PREFIX
from .errors import PayloadTooLarge, RateLimited, SignoffHTTPError
from .tokens import LinkError

log = logging.getLogger(__name__)


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(SignoffHTTPError, _signoff_error)
    app.register_error_handler(LinkError, _link_error)
    app.register_error_handler(RequestEntityTooLarge, _body_too_large)
    # Routing errors (unknown path, wrong method) never reach blueprint handlers, so the
    # app-level handler picks the format from the path.
    app.register_error_handler(HTTPException, _http_exception)
    app.register_error_handler(Exception, _unexpected)


def _wants_json() -> bool:
    return request.path.startswith(API_PREFIX + "/") or request.path == API_PREFIX


def _json_error(status: int, error: str, detail: str) -> tuple[Response, int]:
    return jsonify(error=error, detail=detail), status


def _page_error(status: int, title: str, detail: str) -> tuple[str, int]:
    return render_template("pages/error.html", title=title, detail=detail), status


def _signoff_error(exc: SignoffHTTPError) -> tuple[Response | str, int, dict[str, str]]:
    if _wants_json():
        return (*_json_error(exc.status, exc.error, exc.detail), exc.headers)
    title = "Too many requests" if isinstance(exc, RateLimited) else "Something is wrong with this request"
    return (*_page_error(exc.status, title, exc.detail), exc.headers)


def _body_too_large(_exc: RequestEntityTooLarge) -> tuple[Response | str, int, dict[str, str]]:
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    return _signoff_error(PayloadTooLarge(f"the body is over the limit of {limit} bytes (max_request_bytes)"))


def _link_error(exc: LinkError) -> tuple[str, int]:
    title = "This link has expired" if exc.status == 410 else "This link does not work"
    return _page_error(exc.status, title, str(exc))


def _http_exception(exc: HTTPException) -> tuple[Response | str, int]:
    status = exc.code or 500
    error = (exc.name or "error").lower().replace(" ", "_")
    if _wants_json():
        return _json_error(status, error, exc.description or exc.name)
    return _page_error(status, exc.name, exc.description or "")


def _unexpected(exc: Exception) -> tuple[Response | str, int]:
    if isinstance(exc, HTTPException):
        return _http_exception(exc)
    log.exception("unexpected error on %s %s", request.method, request.path)
    return _http_exception(InternalServerError("The service hit an unexpected error; it has been logged."))
