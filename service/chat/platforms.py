"""The chat platforms this service delivers to, each with its sender."""

from __future__ import annotations

from ..config import Settings
from . import ChatSender
from .discord.sender import DiscordSender
from .slack.sender import SlackSender


def chat_senders(settings: Settings) -> dict[str, ChatSender]:
    """Every platform's sender, by outbox kind."""
    return {
        DiscordSender.kind: DiscordSender(settings),
        SlackSender.kind: SlackSender(settings),
    }
