"""Why an inbound email was not taken as an answer: one class per reason.

Each reason is a stable string stored on the message's row, so an operator can see
what happened to every email that arrived.
"""

from __future__ import annotations


class Rejected(Exception):
    reason = "rejected"

    def __init__(self, detail: str, request_id: int | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.request_id = request_id


class Unparseable(Rejected):
    reason = "unparseable"


class TooManyHeaders(Rejected):
    reason = "too_many_headers"


class Bounce(Rejected):
    reason = "bounce"


class AutoReply(Rejected):
    reason = "auto_reply"


class NoMatchingRequest(Rejected):
    reason = "no_matching_request"


class SenderNotAllowed(Rejected):
    reason = "sender_not_allowed"


class SenderNotAuthenticated(Rejected):
    reason = "dkim_failed"


class AlreadyDecided(Rejected):
    reason = "already_decided"


class EmptyReply(Rejected):
    reason = "empty_reply"
