"""An agent waiting for approval keeps waiting across a restart of the service."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from signoff import ContactChannel, EmailContactChannel, HumanLayer

from signoff_testing import (
    WAIT_SECONDS,
    MailSink,
    RunningService,
    link_after,
    unique_address,
)


@pytest.fixture
def restartable_service(database_url: str, mail_sink: MailSink, tmp_path: Path) -> Iterator[RunningService]:
    running = RunningService.configure(database_url, mail_sink, tmp_path)
    running.start()
    yield running
    running.stop()


def test_a_waiting_agent_gets_the_decision_made_after_a_restart(
    restartable_service: RunningService, mail_sink: MailSink
) -> None:
    service = restartable_service
    approver = unique_address("restart")
    hl = HumanLayer(
        api_key=service.create_key("restart"),
        api_base_url=service.base_url,  # the bare server root works too
        contact_channel=ContactChannel(email=EmailContactChannel(address=approver)),
        poll_seconds=2,
    )

    @hl.require_approval()
    def deploy(version: str) -> str:
        return f"deployed {version}"

    with ThreadPoolExecutor(max_workers=1) as pool:
        future = pool.submit(deploy, version="1.2.3")
        message = mail_sink.wait_for_mail_to(approver)
        service.stop()
        assert not future.done()
        service.start()
        assert requests.post(link_after(message, "Approve:"), timeout=10).status_code == 200
        assert future.result(timeout=WAIT_SECONDS) == "deployed 1.2.3"
