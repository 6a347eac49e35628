"""signoff: approvals and answers from people, by email, for AI agents and scripts.

Decorate a tool with `HumanLayer().require_approval()` to have a person approve each call,
or hand an agent `HumanLayer().human_as_tool()` so it can ask a person a question;
`AsyncHumanLayer` does the same for asyncio agents.
"""

import logging

from .approval import ApprovalMethod, HumanLayer
from .async_approval import AsyncHumanLayer
from .client import SignoffClient
from .exceptions import (
    ApprovalTimedOutError,
    HumanLayerError,
    HumanLayerException,
    SignoffConnectionError,
    SignoffError,
    SignoffHTTPError,
    SignoffTimeoutError,
    UserDeniedError,
)
from .models import (
    ContactChannel,
    DiscordContactChannel,
    EmailContactChannel,
    EmailRecipient,
    Escalation,
    FunctionCall,
    FunctionCallSpec,
    FunctionCallStatus,
    HumanContact,
    HumanContactSpec,
    HumanContactStatus,
    ResponseOption,
    SlackContactChannel,
    SMSContactChannel,
    WhatsAppContactChannel,
    describe_duration,
)

# A library stays silent unless the application configures logging.
logging.getLogger(__name__).addHandler(logging.NullHandler())

__all__ = [
    "ApprovalMethod",
    "ApprovalTimedOutError",
    "AsyncHumanLayer",
    "ContactChannel",
    "DiscordContactChannel",
    "EmailContactChannel",
    "EmailRecipient",
    "Escalation",
    "FunctionCall",
    "FunctionCallSpec",
    "FunctionCallStatus",
    "HumanContact",
    "HumanContactSpec",
    "HumanContactStatus",
    "HumanLayer",
    "HumanLayerError",
    "HumanLayerException",
    "ResponseOption",
    "SMSContactChannel",
    "SignoffClient",
    "SignoffConnectionError",
    "SignoffError",
    "SignoffHTTPError",
    "SignoffTimeoutError",
    "SlackContactChannel",
    "UserDeniedError",
    "WhatsAppContactChannel",
    "describe_duration",
]
