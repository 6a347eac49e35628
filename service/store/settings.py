"""Values generated once per installation and shared by every process through the database."""

from __future__ import annotations

import secrets

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .models import InstanceSetting

GENERATED_SECRET_KEY = "generated_secret_key"  # noqa: S105 - the row's name, not its value


def get_or_create_generated_secret(session: Session) -> tuple[str, bool]:
    """The installation's generated signing key, and whether this call created it."""
    existing = session.scalar(
        select(InstanceSetting.value).where(InstanceSetting.name == GENERATED_SECRET_KEY)
    )
    if existing is not None:
        return existing, False
    value = secrets.token_urlsafe(48)
    try:
        with session.begin_nested():
            session.add(InstanceSetting(name=GENERATED_SECRET_KEY, value=value))
    except IntegrityError:
        # Another process generated it first; use theirs so links signed anywhere verify everywhere.
        stored = session.scalar(
            select(InstanceSetting.value).where(InstanceSetting.name == GENERATED_SECRET_KEY)
        )
        if stored is None:
            raise RuntimeError("the generated signing key was neither readable nor insertable") from None
        return stored, False
    return value, True
