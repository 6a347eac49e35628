"""Logging for every `signoff` command: plain text for a terminal, or one JSON object a line.

One handler on the root logger; the servers we embed (uvicorn for HTTP, aiosmtpd for
inbound mail) log through it too, so a log collector gets one format from the process,
and every line, whoever wrote it, passes through one `Redactor` on its way out: the
SMTP library logs each RCPT TO, and a reply address is as good as a link token.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterable
from datetime import UTC, datetime

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# The loggers of the servers we run; they must not print through handlers of their own.
EMBEDDED_SERVER_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi", "mail.log")
# aiosmtpd's DEBUG prints every line of every message; INFO is its dialogue, command by command.
SMTP_LIBRARY_LOGGER = "mail.log"
REDACTED = "[redacted]"
# What a secret looks like wherever it turns up: a per-request reply address, the token in an
# emailed link, an API key, an Authorization header. "{marker}" stands where the secret was.
SECRET_SHAPES = (
    (re.compile(r"reply\+[^@\s'\"<>]+@", re.IGNORECASE), "reply+{marker}@"),
    (re.compile(r"/d/[A-Za-z0-9_.\-]+"), "/d/{marker}"),
    (re.compile(r"\bsgf_[A-Za-z0-9_\-]+"), "sgf_{marker}"),
    (re.compile(r"\b(Bearer|Basic) [A-Za-z0-9._~+/=\-]{8,}"), r"\1 {marker}"),
)


class Redactor:
    """Takes the secrets out of a text: the shapes above, and the configured secrets verbatim.

    Logs use it on every line; the dashboard on what it shows of mail and events.
    """

    def __init__(self, secrets: Iterable[str] = (), marker: str = REDACTED) -> None:
        # Longest first, so that a secret containing another is removed whole.
        self._secrets = sorted({secret for secret in secrets if secret}, key=len, reverse=True)
        self._marker = marker
        self._shapes = [
            (shape, replacement.format(marker=marker.replace("\\", r"\\")))
            for shape, replacement in SECRET_SHAPES
        ]

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, self._marker)
        for shape, replacement in self._shapes:
            text = shape.sub(replacement, text)
        return text


class TextFormatter(logging.Formatter):
    def __init__(self, redact: Redactor) -> None:
        super().__init__(TEXT_FORMAT)
        self._redact = redact

    def format(self, record: logging.LogRecord) -> str:
        return self._redact(super().format(record))


class JsonFormatter(logging.Formatter):
    """A record as one line of JSON: time, level, logger, message, and exception when present."""

    def __init__(self, redact: Redactor | None = None) -> None:
        super().__init__()
        self._redact = redact or Redactor()

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": self._redact(record.getMessage()),
        }
        if record.exc_info:
            entry["exception"] = self._redact(self.formatException(record.exc_info))
        if record.stack_info:
            entry["stack"] = self._redact(self.formatStack(record.stack_info))
        return json.dumps(entry, default=str)


def configure_logging(level: str, log_format: str, secrets: Iterable[str] = ()) -> None:
    """Log to stderr at `level` in `log_format` ("text" or "json"), never printing `secrets`.

    Like logging.basicConfig, leaves logging alone when the root logger already has a
    handler: whoever embeds us (or a test runner) has configured it.
    """
    root = logging.getLogger()
    if root.handlers:
        return
    redact = Redactor(secrets)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(redact) if log_format == "json" else TextFormatter(redact))
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name in EMBEDDED_SERVER_LOGGERS:
        server_logger = logging.getLogger(name)
        server_logger.handlers.clear()
        server_logger.propagate = True
    # Whole messages (people's mail, quoted links in it) have no place in a log, even at debug.
    logging.getLogger(SMTP_LIBRARY_LOGGER).setLevel(max(root.level, logging.INFO))
    if level != "debug":
        # Alembic narrates every schema check at INFO; a process start is not news.
        logging.getLogger("alembic").setLevel(logging.WARNING)
    # Warnings would otherwise be printed to stderr as they are, breaking a JSON log.
    logging.captureWarnings(True)
