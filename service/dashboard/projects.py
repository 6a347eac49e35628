"""The projects an operator sees, and each one's default contact channel, set by a form."""

from __future__ import annotations

from flask import Response, flash, g, redirect, render_template, request, url_for
from sqlalchemy import select

from signoff.models import ContactChannel

from ..channels import ROUTES, UndeliverableChannel, channel_of_kind, describe
from ..context import db
from ..errors import NotFound
from ..store.keys import set_default_channel
from ..store.models import Project
from .blueprint import bp


@bp.get("/projects")
def projects() -> str:
    return _projects_page()


@bp.post("/projects/default-channel")
def set_project_channel() -> Response | tuple[str, int]:
    project = _project_in_scope(request.form.get("project", ""))
    kind, target = request.form.get("kind", ""), request.form.get("target", "")
    try:
        channel = channel_of_kind(kind, target)
    except UndeliverableChannel as exc:
        problem = f"{project.name}: {target!r} cannot be a default channel ({kind}{exc})"
        return _projects_page(problem), 422
    set_default_channel(project, channel.model_dump(mode="json"))
    db().commit()
    flash(f"{project.name}: requests that name no channel now go to {describe(channel)}.")
    return redirect(url_for("dashboard.projects"), 303)


def _projects_page(problem: str | None = None) -> str:
    shown = [(project, _described(project.default_channel)) for project in _projects_in_scope()]
    return render_template("dashboard/projects.html", projects=shown, routes=ROUTES, problem=problem)


def _described(stored: dict | None) -> str | None:
    return None if stored is None else describe(ContactChannel.model_validate(stored))


def _projects_in_scope() -> list[Project]:
    query = select(Project).order_by(Project.name)
    if not g.operator.is_admin:
        query = query.where(Project.id == g.operator.project_id)
    return list(db().scalars(query))


def _project_in_scope(name: str) -> Project:
    for project in _projects_in_scope():
        if project.name == name:
            return project
    raise NotFound(f"no project {name!r} among those you can see")
