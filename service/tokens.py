"""Signed tokens for the links in our emails.

A token names one request, one action (with the response option it picks, if any) and the
recipient it was mailed to. It is signed
(so it cannot be forged or altered), it expires, and it decides at most once because a
request takes only its first decision.
"""

from __future__ import annotations

from dataclasses import dataclass

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

LINK_SALT = "signoff.decision-link"

APPROVE = "approve"
REJECT = "reject"
RESPOND = "respond"
ACTIONS = (APPROVE, REJECT, RESPOND)


class LinkError(Exception):
    """The link cannot be used; `status` and the message say why to the person holding it."""

    status = 400


class LinkInvalid(LinkError):
    status = 400


class LinkExpired(LinkError):
    status = 410


@dataclass(frozen=True)
class LinkClaim:
    request_id: int
    action: str
    recipient: str
    option: str | None = None


class LinkSigner:
    def __init__(self, secret_keys: list[str], max_age_seconds: int) -> None:
        # itsdangerous signs with the last key and verifies with any: list old keys first to rotate.
        self._serializer = URLSafeTimedSerializer(secret_keys, salt=LINK_SALT)
        self._max_age = max_age_seconds

    def sign(self, claim: LinkClaim) -> str:
        return self._serializer.dumps([claim.request_id, claim.action, claim.recipient, claim.option])

    def verify(self, token: str) -> LinkClaim:
        try:
            payload = self._serializer.loads(token, max_age=self._max_age)
        except SignatureExpired as exc:
            raise LinkExpired("This link has expired.") from exc
        except BadSignature as exc:
            raise LinkInvalid("This link is not valid. It may have been cut short or altered.") from exc
        return _claim_from_payload(payload)


def _claim_from_payload(payload: object) -> LinkClaim:
    if (
        isinstance(payload, list)
        and len(payload) == 4
        and isinstance(payload[0], int)
        and payload[1] in ACTIONS
        and isinstance(payload[2], str)
        and (payload[3] is None or isinstance(payload[3], str))
    ):
        return LinkClaim(request_id=payload[0], action=payload[1], recipient=payload[2], option=payload[3])
    raise LinkInvalid("This link is not valid.")
