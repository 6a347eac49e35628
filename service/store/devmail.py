"""The built-in dev mailbox: where mail goes when no relay is configured."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import DevMail


def deliver(session: Session, *, recipients: list[str], subject: str, body: bytes) -> None:
    session.add(DevMail(recipients=recipients, subject=subject, body=body))


def latest(session: Session, limit: int = 200) -> list[DevMail]:
    return list(session.scalars(select(DevMail).order_by(DevMail.id.desc()).limit(limit)))


def get(session: Session, mail_id: int) -> DevMail | None:
    return session.get(DevMail, mail_id)
