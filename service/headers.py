"""The email policy mail is parsed and composed with: the stdlib's default, each header value
parsed once.

Under the default policy every read of a header parses its value again and first builds a
new class to parse it with; the checks, the reading of the answer and the stdlib's own
walk through the parts read the same few headers dozens of times per message, and every
email we compose sets the same MIME and sender headers again. Parsing is a pure function of
the name and the value, so the header objects are kept and handed out again, to the same
message or the next one alike: what any check sees, and what goes out, is unchanged.
"""

from __future__ import annotations

from email.headerregistry import BaseHeader, HeaderRegistry
from email.policy import EmailPolicy
from functools import lru_cache
from typing import Any

# Values longer than any header a person's mail client writes are parsed every time: the
# cache stays small however large the headers an attacker sends.
CACHED_VALUE_MAX_LENGTH = 1_000
CACHED_HEADERS = 2_048


class _ParsedOnceRegistry(HeaderRegistry):
    def __init__(self) -> None:
        super().__init__()
        self._classes: dict[type, type] = {}
        self._cached = lru_cache(maxsize=CACHED_HEADERS)(self._build)

    def __getitem__(self, name: str) -> type:
        specialized = self.registry.get(name.lower(), self.default_class)
        built = self._classes.get(specialized)
        if built is None:
            built = type(f"_{specialized.__name__}", (specialized, self.base_class), {})
            self._classes[specialized] = built
        return built

    def __call__(self, name: str, value: Any) -> BaseHeader:
        if isinstance(value, str) and len(value) <= CACHED_VALUE_MAX_LENGTH:
            return self._cached(name, value)
        return self._build(name, value)

    def _build(self, name: str, value: Any) -> BaseHeader:
        return self[name](name, value)


MAIL_POLICY = EmailPolicy(header_factory=_ParsedOnceRegistry())
