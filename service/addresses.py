"""Email addresses, checked for syntax only (never DNS) and compared case-insensitively."""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email


class InvalidAddress(ValueError):
    pass


def normalize_address(address: str) -> str:
    """The address as we store and compare it; raises InvalidAddress with the reason."""
    try:
        checked = validate_email(address.strip(), check_deliverability=False, allow_smtputf8=True)
    except EmailNotValidError as exc:
        raise InvalidAddress(f"{address!r} is not a valid email address: {exc}") from exc
    # Mail systems treat local parts case-insensitively in practice, and people type them so.
    return checked.normalized.lower()


def mailbox_key(address: str) -> str:
    """The mailbox an address delivers to: `Ann+work@x` and `ann@x` are one person's."""
    local, _, domain = address.lower().rpartition("@")
    return f"{local.split('+', 1)[0]}@{domain}"
