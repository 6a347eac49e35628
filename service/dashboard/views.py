"""What an operator reads: the login page, the list of requests, and one request in full."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask import Response, g, render_template, request

from .. import decisions
from ..context import db
from ..errors import NotFound
from ..mail_out.presenting import arguments_for_page
from ..store import events, listing, outbox, votes
from ..store.models import FUNCTION_CALL
from ..store.stats import REQUEST_STATES
from . import auth
from .blueprint import bp

PAGE_SIZE = 25
_FILTERS = ("project", "state", "recipient", "function", "date_from", "date_to")


@dataclass(frozen=True)
class ListQuery:
    """The list's filters as the operator typed them, and what was wrong with them."""

    wanted: listing.RequestFilter
    page: int
    args: dict[str, str]
    problems: list[str]


@bp.get("/login")
def login() -> str:
    return auth.show_login()


@bp.post("/login")
def log_in() -> Response | tuple[str, int]:
    return auth.log_in()


@bp.post("/logout")
def log_out() -> Response:
    return auth.log_out()


@bp.get("/")
def index() -> str:
    query = _list_query()
    session = db()
    found, total = listing.list_requests(session, query.wanted, PAGE_SIZE, (query.page - 1) * PAGE_SIZE)
    page = {
        "rows": found,
        "total": total,
        "page": query.page,
        "pages": max(1, -(-total // PAGE_SIZE)),
        "args": query.args,
        "latest": listing.latest_change(session, g.operator.project_id),
    }
    if request.args.get("partial") == "1":
        return render_template("dashboard/_list.html", **page)
    projects = listing.project_names(session) if g.operator.is_admin else []
    return render_template(
        "dashboard/index.html",
        **page,
        problems=query.problems,
        projects=projects,
        states=REQUEST_STATES,
    )


@bp.get("/requests/<int:request_id>")
def detail(request_id: int) -> str:
    listed = find_in_scope(request_id)
    found = listed.request
    session = db()
    return render_template(
        "dashboard/detail.html",
        listed=listed,
        found=found,
        arguments=arguments_for_page(found.spec["kwargs"]) if found.kind == FUNCTION_CALL else [],
        votes=votes.votes_for_request(session, found.id) if decisions.counts_votes(found) else [],
        trail=events.events_for_request(session, found.id),
        emails=outbox.messages_for_request(session, found.id),
        inbound=listing.inbound_for_request(session, found.id),
    )


def find_in_scope(request_id: int) -> listing.ListedRequest:
    """The request if this operator may see it; another project's is as good as missing."""
    listed = listing.request_in_scope(db(), request_id, g.operator.project_id)
    if listed is None:
        raise NotFound(f"There is no request #{request_id} you can see.")
    return listed


def _list_query() -> ListQuery:
    args = {name: request.args.get(name, "").strip() for name in _FILTERS}
    problems: list[str] = []
    state = args["state"] if args["state"] in REQUEST_STATES else ""
    if args["state"] and not state:
        problems.append(f"Unknown state {args['state']!r}; showing every state.")
    wanted = listing.RequestFilter(
        project_id=g.operator.project_id,
        project=args["project"] if g.operator.is_admin else "",
        state=state,
        recipient=args["recipient"],
        function=args["function"],
        date_from=_day(args["date_from"], problems),
        date_to=_day(args["date_to"], problems),
    )
    return ListQuery(wanted, _page_number(), {k: v for k, v in args.items() if v}, problems)


def _day(raw: str, problems: list[str]) -> date | None:
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        problems.append(f"{raw!r} is not a date (YYYY-MM-DD); that filter is off.")
        return None


def _page_number() -> int:
    raw = request.args.get("page", "1")
    return int(raw) if raw.isdigit() and int(raw) > 0 else 1
