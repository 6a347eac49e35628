"""A newcomer's first run: no config at all, mail in the dev mailbox, links clicked from there."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

from signoff import ContactChannel, EmailContactChannel, HumanLayer

from signoff_testing import WAIT_SECONDS, RunningService, free_port, service_env, wait_until


def test_first_run_with_embedded_defaults(tmp_path: Path) -> None:
    env = service_env("unused", free_port(), free_port(), relay_port=0)
    for name in (
        "SIGNOFF_DATABASE_URL",
        "SIGNOFF_OUTBOUND_URL",
        "SIGNOFF_SECRET_KEY",
        "SIGNOFF_REPLY_DOMAIN",
    ):
        del env[name]
    service = RunningService(
        env=env,
        workdir=tmp_path,
        http_port=int(env["SIGNOFF_HTTP_PORT"]),
        smtp_port=int(env["SIGNOFF_SMTP_PORT"]),
        database_url=f"sqlite:///{tmp_path / 'signoff.db'}",
    )
    service.start()
    try:
        assert (tmp_path / "signoff.db").exists()
        assert "generated a signing key" in service.log_path.read_text()
        hl = HumanLayer(
            api_key=service.create_key("newcomer"),
            api_base_url=service.api_url,
            contact_channel=ContactChannel(email=EmailContactChannel(address="me@example.com")),
        )

        @hl.require_approval()
        def say_hello(name: str) -> str:
            return f"hello {name}"

        with ThreadPoolExecutor(max_workers=1) as pool:
            future = pool.submit(say_hello, name="world")
            inbox = wait_until(
                lambda: (
                    "Approval needed: say_hello"
                    in (page := requests.get(f"{service.base_url}/dev/mail/", timeout=10).text)
                    and page
                ),
                what="the mail in the dev mailbox",
            )
            mail_path = re.search(r'href="(/dev/mail/\d+)"', inbox).group(1)
            mail_page = requests.get(service.base_url + mail_path, timeout=10).text
            approve_link = re.search(r'Approve: <a href="([^"]+)"', mail_page).group(1)
            html_version = requests.get(f"{service.base_url}{mail_path}/html", timeout=10)
            assert (
                "sandbox" in html_version.headers["Content-Security-Policy"]
                and approve_link in html_version.text
            )
            assert requests.post(approve_link, timeout=10).status_code == 200
            assert future.result(timeout=WAIT_SECONDS) == "hello world"
    finally:
        service.stop()
