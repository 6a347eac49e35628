"""HumanLayer's v1 REST API under /humanlayer/v1.

`blueprint` holds what every view shares; `human_requests` creates, reads (long-polling) and
answers requests; `escalate` brings more people into one; `audit_trail` reads a request's
events; `webhooks` manages a project's webhooks; `project` its default contact channel.
Importing the modules registers their routes on the one blueprint. `openapi` serves the
contract of them all at `/openapi.json`, from a blueprint of its own: outside the prefix, so
no key is needed to read it.
"""

from . import audit_trail, escalate, human_requests, openapi, project, webhooks
from .blueprint import API_PREFIX, bp
from .human_requests import ASYNC_WAIT_HEADER, WAIT_SECONDS_HEADER, WAIT_TICKET_HEADER

__all__ = [
    "API_PREFIX",
    "ASYNC_WAIT_HEADER",
    "WAIT_SECONDS_HEADER",
    "WAIT_TICKET_HEADER",
    "audit_trail",
    "bp",
    "escalate",
    "human_requests",
    "openapi",
    "project",
    "webhooks",
]
