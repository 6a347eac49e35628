"""signoff: approvals and answers from people, by email, for AI agents and scripts.

Decorate a tool with `HumanLayer().require_approval()` to have a person approve each call,
or hand an agent `HumanLayer().human_as_tool()` so it can ask a person a question.
"""

import logging

from .approval import ApprovalMethod, HumanLayer
from .client import SignoffClient
from .exceptions import (
    HumanLayerException,
    SignoffConnectionError,
    SignoffError,
    SignoffHTTPError,
    SignoffTimeoutError,
    UserDeniedError,
)
from .models import (
    ContactChannel,
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
)

# A library stays silent unless the application configures logging.
logging.getLogger(__name__).addHandler(logging.NullHandler())

__all__ = [
    "ApprovalMethod",
    "ContactChannel",
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
    "HumanLayerException",
    "ResponseOption",
    "SignoffClient",
    "SignoffConnectionError",
    "SignoffError",
    "SignoffHTTPError",
    "SignoffTimeoutError",
    "UserDeniedError",
]
