"""Settings: packaged defaults, then a TOML file, then SIGNOFF_* environment variables.

This is the only module that reads the environment. Everything else receives the frozen
`Settings` built here, so the web app, the SMTP server, the workers and every CLI
command see the same values.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from email.errors import HeaderParseError
from email.headerregistry import Address
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .mcp.policy import Rule, RuleError

ENV_PREFIX = "SIGNOFF_"
CONFIG_FILE_ENV = "SIGNOFF_CONFIG"
LOG_LEVELS = ("debug", "info", "warning", "error")
LOG_FORMATS = ("text", "json")


class ConfigError(ValueError):
    """A setting is missing, unknown or malformed; the message names it."""


@dataclass(frozen=True)
class Settings:
    http_host: str
    http_port: int
    smtp_host: str
    smtp_port: int
    reply_domain: str
    outbound_url: str
    outbound_timeout_seconds: int
    mail_from: str
    from_name: str
    base_url: str
    database_url: str
    secret_key: str
    old_secret_keys: tuple[str, ...]
    admin_password: str
    link_max_age_seconds: int
    max_message_bytes: int
    max_message_headers: int
    max_request_bytes: int
    max_argument_bytes: int
    max_recipients: int
    api_requests_per_minute: int
    page_requests_per_minute: int
    inbound_messages_per_hour: int
    smtp_tls_cert_file: str
    smtp_tls_key_file: str
    outbound_tls_verify: bool
    outbound_ca_file: str
    webhook_private_addresses: bool
    require_dkim: bool
    trusted_authserv_id: str
    log_level: str
    log_format: str
    metrics_enabled: bool
    slack_signing_secret: str
    slack_bot_token: str
    slack_api_url: str
    discord_public_key: str
    discord_bot_token: str
    discord_api_url: str
    mcp_email: str
    mcp_timeout_seconds: int
    mcp_allow: tuple[str, ...]
    mcp_ask: tuple[str, ...]
    mcp_deny: tuple[str, ...]

    @property
    def public_base_url(self) -> str:
        """The root that emailed links start with."""
        return (self.base_url or f"http://{self.http_host}:{self.http_port}").rstrip("/")

    @property
    def uses_dev_mailbox(self) -> bool:
        return self.outbound_url == "dev"

    @property
    def secrets(self) -> tuple[str, ...]:
        """What must never be printed: signing keys, the admin password, URL passwords, bot tokens."""
        passwords = (urlsplit(url).password for url in (self.outbound_url, self.database_url))
        chat = (self.slack_signing_secret, self.slack_bot_token, self.discord_bot_token)
        return (
            self.secret_key,
            *self.old_secret_keys,
            self.admin_password,
            *filter(None, (*passwords, *chat)),
        )


def _port(value: Any) -> int:
    port = _positive_int(value)
    if port > 65535:
        raise ValueError("a port is at most 65535")
    return port


def _positive_int(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError("expected a whole number")
    number = int(value)
    if number < 0:
        raise ValueError("expected a number of at least 0")
    return number


def _at_least_one(value: Any) -> int:
    number = _positive_int(value)
    if number < 1:
        raise ValueError("expected a number of at least 1")
    return number


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("expected a string")
    return value.strip()


def _sender_address(value: Any) -> str:
    address = _text(value)
    if "<" in address:
        raise ValueError("expected a bare address; put the display name in from_name (SIGNOFF_FROM_NAME)")
    try:
        Address(addr_spec=address)  # what every email's From header is built with
    except (ValueError, IndexError, HeaderParseError) as exc:
        raise ValueError(f"expected an email address: {exc}") from exc
    return address


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = _text(value).lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off", ""):
        return False
    raise ValueError("expected true or false")


def _text_list(value: Any) -> tuple[str, ...]:
    # A TOML list, or (from the environment) one comma-separated string.
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list | tuple):
        raise ValueError("expected a list of strings")
    return tuple(item for item in (_text(item) for item in items) if item)


def _one_of(choices: tuple[str, ...]) -> Callable[[Any], str]:
    def parse(value: Any) -> str:
        choice = _text(value).lower()
        if choice not in choices:
            raise ValueError(f"expected one of {', '.join(choices)}")
        return choice

    return parse


def _domain(value: Any) -> str:
    domain = _text(value).lower()
    if not domain or "@" in domain or " " in domain:
        raise ValueError("expected a bare domain such as reply.example.com")
    return domain


def _http_url(value: Any) -> str:
    url = _text(value)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("expected an http:// or https:// URL")
    return url


def _hex_key(value: Any) -> str:
    key = _text(value).lower()
    try:
        bytes.fromhex(key)
    except ValueError as exc:
        raise ValueError("expected the key in hex, as the developer portal shows it") from exc
    return key


def _rule_list(value: Any) -> tuple[str, ...]:
    rules = _text_list(value)
    try:
        return tuple(Rule.parse(rule).text for rule in rules)
    except RuleError as exc:
        raise ValueError(str(exc)) from exc


# One line per setting: its key in the TOML file (the env var is SIGNOFF_ + KEY), the
# attribute it fills and how the text is read.
_SETTINGS: tuple[tuple[str, str, Callable[[Any], Any]], ...] = (
    ("http_host", "http_host", _text),
    ("http_port", "http_port", _port),
    ("smtp_host", "smtp_host", _text),
    ("smtp_port", "smtp_port", _port),
    ("reply_domain", "reply_domain", _domain),
    ("outbound_url", "outbound_url", _text),
    ("outbound_timeout_seconds", "outbound_timeout_seconds", _at_least_one),
    ("from", "mail_from", _sender_address),
    ("from_name", "from_name", _text),
    ("base_url", "base_url", _text),
    ("database_url", "database_url", _text),
    ("secret_key", "secret_key", _text),
    ("old_secret_keys", "old_secret_keys", _text_list),
    ("admin_password", "admin_password", _text),
    ("link_max_age_seconds", "link_max_age_seconds", _positive_int),
    ("max_message_bytes", "max_message_bytes", _positive_int),
    ("max_message_headers", "max_message_headers", _at_least_one),
    ("max_request_bytes", "max_request_bytes", _at_least_one),
    ("max_argument_bytes", "max_argument_bytes", _at_least_one),
    ("max_recipients", "max_recipients", _at_least_one),
    ("api_requests_per_minute", "api_requests_per_minute", _positive_int),
    ("page_requests_per_minute", "page_requests_per_minute", _positive_int),
    ("inbound_messages_per_hour", "inbound_messages_per_hour", _positive_int),
    ("smtp_tls_cert_file", "smtp_tls_cert_file", _text),
    ("smtp_tls_key_file", "smtp_tls_key_file", _text),
    ("outbound_tls_verify", "outbound_tls_verify", _boolean),
    ("outbound_ca_file", "outbound_ca_file", _text),
    ("webhook_private_addresses", "webhook_private_addresses", _boolean),
    ("require_dkim", "require_dkim", _boolean),
    ("trusted_authserv_id", "trusted_authserv_id", _text),
    ("log_level", "log_level", _one_of(LOG_LEVELS)),
    ("log_format", "log_format", _one_of(LOG_FORMATS)),
    ("metrics_enabled", "metrics_enabled", _boolean),
    ("slack_signing_secret", "slack_signing_secret", _text),
    ("slack_bot_token", "slack_bot_token", _text),
    ("slack_api_url", "slack_api_url", _http_url),
    ("discord_public_key", "discord_public_key", _hex_key),
    ("discord_bot_token", "discord_bot_token", _text),
    ("discord_api_url", "discord_api_url", _http_url),
    ("mcp_email", "mcp_email", _text),
    ("mcp_timeout_seconds", "mcp_timeout_seconds", _positive_int),
    ("mcp_allow", "mcp_allow", _rule_list),
    ("mcp_ask", "mcp_ask", _rule_list),
    ("mcp_deny", "mcp_deny", _rule_list),
)
if {attribute for _, attribute, _ in _SETTINGS} != {field.name for field in fields(Settings)}:
    raise RuntimeError("_SETTINGS and Settings disagree: every field needs exactly one line")


def default_config_text() -> str:
    """The documented default file shipped inside the package."""
    return resources.files("signoff_service").joinpath("defaults/signoff.toml").read_text("utf-8")


def load_settings(
    config_file: str | os.PathLike[str] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Build the settings: defaults, then `config_file` (or $SIGNOFF_CONFIG), then the environment."""
    environ = os.environ if environ is None else environ
    raw: dict[str, Any] = tomllib.loads(default_config_text())
    config_file = config_file or environ.get(CONFIG_FILE_ENV) or None
    if config_file:
        raw.update(_read_config_file(Path(config_file)))
    for key, _, _ in _SETTINGS:
        env_name = ENV_PREFIX + key.upper()
        if env_name in environ:
            raw[key] = environ[env_name]
    return Settings(**{attribute: _parse(key, raw[key], parse) for key, attribute, parse in _SETTINGS})


def export_config_file(config_file: str | os.PathLike[str]) -> None:
    """Make child processes (forked web workers) read the same config file."""
    os.environ[CONFIG_FILE_ENV] = os.fspath(config_file)


def _read_config_file(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            values = tomllib.load(handle)
    except FileNotFoundError as exc:
        raise ConfigError(f"config file {path} does not exist") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from exc
    known = {key for key, _, _ in _SETTINGS}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ConfigError(f"config file {path}: unknown setting {unknown[0]!r}")
    return values


def _parse(key: str, value: Any, parse: Callable[[Any], Any]) -> Any:
    try:
        return parse(value)
    except (TypeError, ValueError) as exc:
        raise setting_error(key, f"{exc}; got {value!r}") from exc


def setting_error(key: str, problem: str) -> ConfigError:
    """A ConfigError naming the setting and its env var, for values that fail when used (files)."""
    return ConfigError(f"setting {key!r} (env {ENV_PREFIX}{key.upper()}): {problem}")
