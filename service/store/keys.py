"""Projects and their API keys."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import ApiKey, Project
from .types import utcnow

KEY_PREFIX = "sgf_"
# What `keys list` shows and `keys revoke` takes: the key's start, never the key.
SHOWN_PREFIX_LENGTH = 12


class KeyRefused(LookupError):
    """The key does not let anyone in; the message says why (unknown, revoked, expired)."""


def hash_key(key: str) -> str:
    # Keys are 240 random bits, so a fast hash is as safe as a slow one and keeps auth cheap.
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def get_or_create_project(session: Session, name: str) -> Project:
    project = session.scalar(select(Project).where(Project.name == name))
    if project is None:
        project = Project(name=name)
        session.add(project)
        session.flush()
    return project


def project_by_id(session: Session, project_id: int) -> Project:
    project = session.get(Project, project_id)
    if project is None:
        raise LookupError(f"no project {project_id}")
    return project


def set_default_channel(project: Project, channel: dict[str, Any] | None) -> None:
    """Where the project's requests that name no channel go (a ContactChannel's JSON)."""
    project.default_channel = channel


def default_channel(session: Session, project_id: int) -> dict[str, Any] | None:
    return session.scalar(select(Project.default_channel).where(Project.id == project_id))


def create_api_key(
    session: Session, project: Project, expires_at: datetime | None = None, can_decide: bool = True
) -> str:
    """Store a new key for `project` and return it; only its hash is kept."""
    key = KEY_PREFIX + secrets.token_urlsafe(30)
    session.add(
        ApiKey(
            project_id=project.id,
            key_hash=hash_key(key),
            prefix=key[:SHOWN_PREFIX_LENGTH],
            expires_at=expires_at,
            can_decide=can_decide,
        )
    )
    session.flush()
    return key


def check_api_key(session: Session, key: str) -> tuple[Project, ApiKey]:
    """The project `key` belongs to, and its row; KeyRefused when it is unknown, revoked or expired."""
    return check_api_key_hash(session, hash_key(key))


def check_api_key_hash(session: Session, key_hash: str) -> tuple[Project, ApiKey]:
    """As check_api_key, for a caller that has hashed the key already."""
    row = session.execute(
        select(ApiKey, Project)
        .join(Project, ApiKey.project_id == Project.id)
        .where(ApiKey.key_hash == key_hash)
    ).first()
    if row is None:
        raise KeyRefused("this API key is not valid")
    api_key, project = row
    refusal = _refusal(api_key)
    if refusal:
        raise KeyRefused(refusal)
    return project, api_key


def key_is_active(session: Session, key_id: int) -> bool:
    """Whether the key with this id still lets its holder in (a dashboard session rests on it)."""
    api_key = session.get(ApiKey, key_id)
    return api_key is not None and not _refusal(api_key)


def _refusal(api_key: ApiKey) -> str:
    if api_key.revoked_at is not None:
        return f"this API key was revoked on {api_key.revoked_at:%Y-%m-%d %H:%M} UTC"
    if api_key.expires_at is not None and api_key.expires_at <= utcnow():
        return f"this API key expired on {api_key.expires_at:%Y-%m-%d %H:%M:%S} UTC"
    return ""


def project_for_key(session: Session, key: str) -> Project | None:
    """The project of a key that lets its holder in, else None."""
    try:
        return check_api_key(session, key)[0]
    except KeyRefused:
        return None


def keys_of_project(session: Session, project_id: int) -> list[ApiKey]:
    return list(session.scalars(select(ApiKey).where(ApiKey.project_id == project_id).order_by(ApiKey.id)))


def revoke_api_key(session: Session, prefix: str) -> ApiKey:
    """Revoke the key that starts with `prefix` (as `keys list` shows it); KeyRefused if none does."""
    shown = prefix[:SHOWN_PREFIX_LENGTH]
    matches = list(session.scalars(select(ApiKey).where(ApiKey.prefix == shown)))
    if len(shown) < SHOWN_PREFIX_LENGTH or not matches:
        raise KeyRefused(
            f"no key starts with {shown!r}; "
            f"give the {SHOWN_PREFIX_LENGTH} characters that `signoff keys list` shows"
        )
    if len(matches) > 1:
        raise KeyRefused(f"{len(matches)} keys start with {shown!r}; revoke needs one")
    key = matches[0]
    if key.revoked_at is None:
        key.revoked_at = utcnow()
    return key
