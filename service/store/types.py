"""Column types that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from sqlalchemy import DateTime, Dialect, String, TypeDecorator
from sqlalchemy.orm import mapped_column


class TZDateTime(TypeDecorator[datetime]):
    """A timestamp that always comes back as an aware UTC datetime.

    SQLite has no time zones and hands back naive values; storing UTC and re-attaching
    the zone on the way out makes both databases agree.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("refusing to store a naive datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


int_pk = Annotated[int, mapped_column(primary_key=True)]
timestamp = Annotated[datetime, mapped_column(TZDateTime)]
short_text = Annotated[str, mapped_column(String(255))]
