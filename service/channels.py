"""Where a ContactChannel takes a request: the email addresses and the chat channels.

The API's creates, and every way of setting a project's default channel (the CLI, the
API, the dashboard), check a channel here, so they refuse the same things in the same words.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import ValidationError

from signoff.models import ContactChannel, DiscordContactChannel, EmailContactChannel, SlackContactChannel

from .addresses import InvalidAddress, normalize_address
from .store.chat import CHAT_KINDS

# The routes a person can be reached by, in the order people name them.
ROUTES = ("email", *CHAT_KINDS)


class UndeliverableChannel(ValueError):
    """The channel names no route signoff delivers to, or an address that is not one.

    The message starts with the path of the field at fault (".email: ..."), or with ": "
    when the channel as a whole is at fault, so that callers can put their own path first.
    """


@dataclass(frozen=True)
class Destinations:
    emails: list[str]  # normalized, without repeats
    chats: list[tuple[str, str]]  # (platform, channel or user id)


def destinations(channel: ContactChannel) -> Destinations:
    found = Destinations(_email_addresses(channel.email), _chat_destinations(channel))
    if not found.emails and not found.chats:
        raise UndeliverableChannel(
            ": signoff reaches people by email, Slack or Discord; set its email, slack or discord"
        )
    return found


def channel_of_kind(kind: str, target: str) -> ContactChannel:
    """A one-route channel from a form or a command line: ("slack", "C0123") and the like."""
    target = target.strip()
    try:
        if kind == "email":
            channel = ContactChannel(email=EmailContactChannel(address=target))
        elif kind in CHAT_KINDS:
            route = {"slack": SlackContactChannel, "discord": DiscordContactChannel}[kind]
            channel = ContactChannel(**{kind: route(channel_or_user_id=target)})
        else:
            raise UndeliverableChannel(f": expected one of {', '.join(ROUTES)}, got {kind!r}")
    except ValidationError as exc:
        raise UndeliverableChannel(f".{kind}: {exc.errors()[0]['msg']}") from exc
    destinations(channel)
    return channel


def describe(channel: ContactChannel) -> str:
    """The channel in a few words for people: "someone@example.com", "Slack C0123"."""
    parts = []
    if channel.email is not None:
        parts.append(", ".join(channel.email.all_addresses()))
    parts.extend(f"{kind.title()} {target}" for kind, target in _chat_destinations(channel))
    return "; ".join(parts)


def _email_addresses(email: EmailContactChannel | None) -> list[str]:
    if email is None:
        return []
    try:
        addresses = [normalize_address(address) for address in email.all_addresses()]
    except InvalidAddress as exc:
        raise UndeliverableChannel(f".email: {exc}") from exc
    return list(dict.fromkeys(addresses))


def _chat_destinations(channel: ContactChannel) -> list[tuple[str, str]]:
    routes = [(kind, getattr(channel, kind)) for kind in CHAT_KINDS]
    return [(kind, route.channel_or_user_id) for kind, route in routes if route is not None]
