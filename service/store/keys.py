"""Projects and their API keys."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import ApiKey, Project

KEY_PREFIX = "sgf_"


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


def create_api_key(session: Session, project: Project) -> str:
    """Store a new key for `project` and return it; only its hash is kept."""
    key = KEY_PREFIX + secrets.token_urlsafe(30)
    session.add(ApiKey(project_id=project.id, key_hash=hash_key(key), prefix=key[:12]))
    session.flush()
    return key


def project_for_key(session: Session, key: str) -> Project | None:
    return session.scalar(
        select(Project)
        .join(ApiKey, ApiKey.project_id == Project.id)
        .where(ApiKey.key_hash == hash_key(key), ApiKey.revoked_at.is_(None))
    )
