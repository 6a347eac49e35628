"""Logging for every `signoff` command: plain text for a terminal, or one JSON object a line.

One handler on the root logger; the servers we embed (uvicorn for HTTP, aiosmtpd for
inbound mail) log through it too, so a log collector gets one format from the process.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# The loggers of the servers we run; they must not print through handlers of their own.
EMBEDDED_SERVER_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi", "mail.log")


class JsonFormatter(logging.Formatter):
    """A record as one line of JSON: time, level, logger, message, and exception when present."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str)


def configure_logging(level: str, log_format: str) -> None:
    """Log to stderr at `level` in `log_format` ("text" or "json").

    Like logging.basicConfig, leaves logging alone when the root logger already has a
    handler: whoever embeds us (or a test runner) has configured it.
    """
    root = logging.getLogger()
    if root.handlers:
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT))
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name in EMBEDDED_SERVER_LOGGERS:
        server_logger = logging.getLogger(name)
        server_logger.handlers.clear()
        server_logger.propagate = True
    if level != "debug":
        # Alembic narrates every schema check at INFO; a process start is not news.
        logging.getLogger("alembic").setLevel(logging.WARNING)
    # Warnings would otherwise be printed to stderr as they are, breaking a JSON log.
    logging.captureWarnings(True)
