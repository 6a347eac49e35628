"""What every dashboard view shares: the blueprint, its login and CSRF checks, its CSP, its errors."""

from __future__ import annotations

import json

from flask import Blueprint, Response, g, render_template, request
from werkzeug.exceptions import HTTPException

from ..errors import SignoffHTTPError
from ..logs import Redactor
from . import auth

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")

# The app's policy, plus our own script and its live-update requests on these pages only.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self'; script-src 'self'; connect-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
OPEN_ENDPOINTS = frozenset({"dashboard.login", "dashboard.log_in"})
# The logs' own redaction: one idea of what a secret looks like.
REDACT = Redactor(marker="…")


@bp.before_request
def _check_request() -> Response | None:
    if request.method == "POST":
        auth.check_csrf()
    if request.endpoint in OPEN_ENDPOINTS:
        return None
    return auth.require_operator()


@bp.after_request
def _content_security_policy(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    return response


@bp.context_processor
def _every_page() -> dict[str, object]:
    return {"csrf_token": auth.csrf_token, "operator": g.get("operator")}


@bp.app_template_filter("redact")
def redact(text: object) -> str:
    """Text from mail and logs without the secrets it may quote: reply addresses, link tokens, keys."""
    return REDACT("" if text is None else str(text))


@bp.app_template_filter("compact_json")
def compact_json(value: object) -> str:
    """A value as one line of JSON text (escaped by the template, like everything else)."""
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "), default=str)


@bp.errorhandler(SignoffHTTPError)
def _refused(exc: SignoffHTTPError) -> tuple[str, int, dict[str, str]]:
    titles = {400: "The form was refused", 401: "Please log in", 404: "Not found", 429: "Too many tries"}
    title = titles.get(exc.status, "This cannot be done")
    return render_template("dashboard/error.html", title=title, detail=exc.detail), exc.status, exc.headers


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException) -> tuple[str, int]:
    return render_template("dashboard/error.html", title=exc.name, detail=exc.description), exc.code or 500
