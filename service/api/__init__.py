"""HumanLayer's v1 REST API under /humanlayer/v1.

`blueprint` holds what every view shares; `human_requests` creates, reads (long-polling) and
answers requests; `escalate` brings more people into one. Importing the modules
registers their routes on the one blueprint.
"""

from . import escalate, human_requests
from .blueprint import API_PREFIX, bp
from .human_requests import ASYNC_WAIT_HEADER, WAIT_SECONDS_HEADER, WAIT_TICKET_HEADER

__all__ = [
    "API_PREFIX",
    "ASYNC_WAIT_HEADER",
    "WAIT_SECONDS_HEADER",
    "WAIT_TICKET_HEADER",
    "bp",
    "escalate",
    "human_requests",
]
