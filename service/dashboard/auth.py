"""Who is looking at the dashboard: login with the admin password or a project's API key,
a signed session cookie, a CSRF token on every form, and slow answers to wrong guesses."""

from __future__ import annotations

import hmac
import logging
import math
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from flask import Flask, Response, current_app, g, redirect, render_template, request, session, url_for
from flask.sessions import SecureCookieSessionInterface

from ..context import db, runtime
from ..errors import RateLimited, SignoffHTTPError
from ..store.keys import KeyRefused, check_api_key, key_is_active

log = logging.getLogger(__name__)

COOKIE_NAME = "signoff_dashboard"
SESSION_HOURS = 12
CSRF_FIELD = "csrf_token"
# Failed logins per client IP: each one answered more slowly, then a lockout for the window.
MAX_FAILURES = 5
FAILURE_WINDOW_SECONDS = 300
FIRST_DELAY_SECONDS = 0.25
MAX_DELAY_SECONDS = 2.0
PRUNE_AT = 10_000
STATE_KEY = "signoff_dashboard"
# Fetched by the page's script, which wants a status, not a login page.
BACKGROUND_ENDPOINTS = frozenset({"dashboard.stream", "dashboard.changes"})


class CsrfRefused(SignoffHTTPError):
    status = 400
    error = "csrf_refused"


class LoginRequired(SignoffHTTPError):
    status = 401
    error = "login_required"


@dataclass(frozen=True)
class Operator:
    """A logged-in operator: the admin sees every project, a key's holder its project only."""

    name: str
    project_id: int | None = None
    key_id: int | None = None

    @property
    def is_admin(self) -> bool:
        return self.project_id is None


class LoginThrottle:
    """Counts failed logins per client IP; forgets them `window` seconds after the first."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._failures: dict[str, tuple[int, float]] = {}
        self._lock = threading.Lock()

    def retry_after(self, client: str) -> int | None:
        """Whole seconds until `client` may try again, or None when it may now."""
        with self._lock:
            count, first = self._current(client)
        if count < MAX_FAILURES:
            return None
        return max(1, math.ceil(first + FAILURE_WINDOW_SECONDS - self._clock()))

    def failed(self, client: str) -> float:
        """Count a failure; returns how long to hold the answer back."""
        with self._lock:
            count, first = self._current(client)
            if len(self._failures) >= PRUNE_AT:
                self._prune()
            self._failures[client] = (count + 1, first)
        return min(MAX_DELAY_SECONDS, FIRST_DELAY_SECONDS * 2**count)

    def succeeded(self, client: str) -> None:
        with self._lock:
            self._failures.pop(client, None)

    def _current(self, client: str) -> tuple[int, float]:
        now = self._clock()
        count, first = self._failures.get(client, (0, now))
        if now - first >= FAILURE_WINDOW_SECONDS:
            return 0, now
        return count, first

    def _prune(self) -> None:
        now = self._clock()
        for client in [
            c for c, (_, first) in self._failures.items() if now - first >= FAILURE_WINDOW_SECONDS
        ]:
            del self._failures[client]


class DashboardSessions(SecureCookieSessionInterface):
    """Flask's signed cookie, marked Secure whenever the dashboard is reached over https."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return request.is_secure or runtime().settings.public_base_url.startswith("https://")


def init_sessions(app: Flask, secret_keys: list[str]) -> None:
    # Signed with the current key, old ones still accepted: the links' rotation applies here too.
    app.config.update(
        SECRET_KEY=secret_keys[-1],
        SECRET_KEY_FALLBACKS=secret_keys[:-1],
        SESSION_COOKIE_NAME=COOKIE_NAME,
        SESSION_COOKIE_PATH="/dashboard",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        PERMANENT_SESSION_LIFETIME=timedelta(hours=SESSION_HOURS),
        # Twelve hours from login, not from the last click.
        SESSION_REFRESH_EACH_REQUEST=False,
    )
    app.session_interface = DashboardSessions()
    app.extensions[STATE_KEY] = LoginThrottle()


def csrf_token() -> str:
    token = session.get(CSRF_FIELD)
    if token is None:
        token = session[CSRF_FIELD] = secrets.token_urlsafe(32)
    return token


def check_csrf() -> None:
    sent = request.form.get(CSRF_FIELD, "")
    expected = session.get(CSRF_FIELD, "")
    if not sent or not expected or not hmac.compare_digest(sent, expected):
        raise CsrfRefused(
            "This form has expired or did not come from the dashboard, so nothing was changed. "
            "Go back, reload the page and try again."
        )


def current_operator() -> Operator | None:
    found = session.get("operator")
    if not isinstance(found, dict):
        return None
    operator = Operator(found["name"], found.get("project_id"), found.get("key_id"))
    # The cookie's own expiry moves on each change (a flash message); the login's age does not.
    if time.time() - found.get("since", 0) > SESSION_HOURS * 3600:
        session.clear()
        return None
    if operator.key_id is not None and not key_is_active(db(), operator.key_id):
        session.clear()
        return None
    return operator


def require_operator() -> Response | None:
    """Before every dashboard view but the login: a session, or off to the login page."""
    operator = current_operator()
    if operator is None:
        if request.method == "GET" and request.endpoint not in BACKGROUND_ENDPOINTS:
            return redirect(url_for("dashboard.login"))
        raise LoginRequired("Please log in to the dashboard first.")
    g.operator = operator
    return None


def show_login() -> str:
    return render_template("dashboard/login.html", problem=None)


def log_in() -> Response | tuple[str, int]:
    client = request.remote_addr or "unknown"
    throttle: LoginThrottle = current_app.extensions[STATE_KEY]
    wait = throttle.retry_after(client)
    if wait is not None:
        raise RateLimited(f"Too many failed logins from your address. Try again in {wait} seconds.", wait)
    operator = _operator_for(request.form.get("secret", ""))
    if operator is None:
        delay = throttle.failed(client)
        log.warning("dashboard: failed login from %s", client)
        time.sleep(delay)
        return render_template("dashboard/login.html", problem="That password or key did not match."), 401
    throttle.succeeded(client)
    session.clear()  # a fresh session (and CSRF token) for the logged-in operator
    session.permanent = True
    session["operator"] = {
        "name": operator.name,
        "project_id": operator.project_id,
        "key_id": operator.key_id,
        "since": time.time(),
    }
    log.info("dashboard: %s logged in from %s", operator.name, client)
    return redirect(url_for("dashboard.index"), 303)


def log_out() -> Response:
    session.clear()
    return redirect(url_for("dashboard.login"), 303)


def _operator_for(secret: str) -> Operator | None:
    if not secret:
        return None
    password = runtime().settings.admin_password
    if password and hmac.compare_digest(secret.encode(), password.encode()):
        return Operator("admin")
    try:
        project, api_key = check_api_key(db(), secret)
    except KeyRefused:
        return None
    return Operator(f"project {project.name}", project.id, api_key.id)
