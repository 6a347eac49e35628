"""A request's own email body (`EmailContactChannel.template`), rendered in a sandbox.

The template comes from an agent, so it gets Jinja's sandbox (no attribute tricks, no
access to Python internals), autoescaping, and only the documented variables
(docs/email-templates.md). Our own text part, with the same links, is always sent beside it.
"""

from __future__ import annotations

from typing import Any

from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment

MAX_TEMPLATE_CHARS = 100_000


class CustomTemplateError(ValueError):
    """The request's template cannot be used; the message says why, for the agent's developer."""


class CustomTemplates:
    def __init__(self) -> None:
        self._environment = SandboxedEnvironment(autoescape=True, undefined=StrictUndefined)

    def render(self, source: str, variables: dict[str, Any]) -> str:
        if len(source) > MAX_TEMPLATE_CHARS:
            raise CustomTemplateError(f"the template is longer than {MAX_TEMPLATE_CHARS} characters")
        try:
            return self._environment.from_string(source).render(**variables)
        except TemplateError as exc:
            raise CustomTemplateError(f"the template failed to render: {exc}") from exc
