"""Settings: packaged defaults, then the TOML file, then SIGNOFF_* env; bad values name their key."""

from __future__ import annotations

from pathlib import Path

import pytest

from signoff_service.config import ConfigError, load_settings
from signoff_service.store.db import normalize_database_url


def test_defaults_are_the_embedded_setup() -> None:
    settings = load_settings(environ={})
    assert (settings.http_host, settings.http_port, settings.smtp_port) == ("127.0.0.1", 8080, 2525)
    assert settings.uses_dev_mailbox and settings.database_url == "sqlite:///signoff.db"
    assert settings.public_base_url == "http://127.0.0.1:8080"


def test_file_overrides_defaults_and_env_overrides_file(tmp_path: Path) -> None:
    config = tmp_path / "signoff.toml"
    config.write_text(
        'http_port = 9000\nreply_domain = "Replies.Example.com"\nbase_url = "https://approve.example.com/"\n'
    )
    settings = load_settings(environ={"SIGNOFF_CONFIG": str(config), "SIGNOFF_HTTP_PORT": "9100"})
    assert settings.http_port == 9100
    assert settings.reply_domain == "replies.example.com"
    assert settings.public_base_url == "https://approve.example.com"


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        ({"SIGNOFF_HTTP_PORT": "eighty"}, "SIGNOFF_HTTP_PORT"),
        ({"SIGNOFF_SMTP_PORT": "70000"}, "SIGNOFF_SMTP_PORT"),
        ({"SIGNOFF_LOG_LEVEL": "loud"}, "SIGNOFF_LOG_LEVEL"),
        ({"SIGNOFF_REPLY_DOMAIN": "me@example.com"}, "SIGNOFF_REPLY_DOMAIN"),
        # A display name belongs in from_name: this once started and then failed every create.
        ({"SIGNOFF_FROM": "signoff <signoff@example.com>"}, "SIGNOFF_FROM_NAME"),
        ({"SIGNOFF_FROM": "not an address"}, "SIGNOFF_FROM"),
    ],
)
def test_a_bad_value_names_its_setting(environ: dict[str, str], named: str) -> None:
    with pytest.raises(ConfigError, match=named):
        load_settings(environ=environ)


def test_an_unknown_key_or_missing_file_is_named(tmp_path: Path) -> None:
    config = tmp_path / "signoff.toml"
    config.write_text("htp_port = 1\n")
    with pytest.raises(ConfigError, match="htp_port"):
        load_settings(config)
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "missing.toml")


def test_plain_database_urls_get_their_driver() -> None:
    assert (
        normalize_database_url("postgresql://postgres@127.0.0.1:5432/test").drivername == "postgresql+psycopg"
    )
    assert normalize_database_url("sqlite:///signoff.db").drivername == "sqlite"


def test_a_bad_config_stops_the_cli_with_the_setting_named(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from signoff_service.cli import main

    result = CliRunner().invoke(main, ["keys", "create", "--project", "p"], env={"SIGNOFF_HTTP_PORT": "x"})
    assert result.exit_code == 2 and "SIGNOFF_HTTP_PORT" in result.output
