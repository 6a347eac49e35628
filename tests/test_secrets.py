"""Secrets stay secret: no token, key or reply address in any log line, keys rotate and revoke.

Each test runs its own `signoff serve`, logging at debug, so that every logger (ours,
uvicorn's access log, aiosmtpd's `mail.log`) writes everything it ever writes.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from signoff import FunctionCallSpec

from signoff_testing import (
    SQLITE_ONLY,
    WAIT_SECONDS,
    MailSink,
    RunningService,
    agent_layer,
    link_after,
    links_in,
    reply_headers,
    send_email,
    unique_address,
    wait_until,
)

# What the service promises: a revoked key stops working within a second, on every node.
KEY_RECHECK_SECONDS = 1.0

TOKEN_IN_LINK = re.compile(r"/d/([A-Za-z0-9_.\-]+)")
REPLY_TOKEN = re.compile(r"reply\+([A-Za-z0-9_\-]+)@")


@pytest.fixture
def own_service(private_database_url: str, mail_sink: MailSink, tmp_path: Path) -> Iterator[RunningService]:
    running = RunningService.configure(private_database_url, mail_sink, tmp_path)
    yield running
    running.stop()


def _secrets_of(message: object) -> set[str]:
    found = set()
    for link in links_in(message):  # type: ignore[arg-type]
        found.update(TOKEN_IN_LINK.findall(link))
    reply_to = str(message["Reply-To"])  # type: ignore[index]
    found.add(reply_to)
    found.update(REPLY_TOKEN.findall(reply_to))
    return found


# Each log format once, each on one store: the libraries log the same whichever store it is.
@pytest.mark.parametrize(
    ("database_url", "log_format"), [("sqlite", "text"), ("postgresql", "json")], indirect=["database_url"]
)
def test_no_secret_in_any_log_line_over_approve_reject_and_reply(
    own_service: RunningService, mail_sink: MailSink, log_format: str
) -> None:
    own_service.env["SIGNOFF_LOG_FORMAT"] = log_format
    own_service.start()
    key = own_service.create_key("log-capture")
    secrets = {key, own_service.env["SIGNOFF_SECRET_KEY"]}
    pool = ThreadPoolExecutor(max_workers=3)
    try:
        approver, rejecter, answerer = (unique_address(name) for name in ("ok", "no", "answer"))

        approved = pool.submit(_gate(own_service, key, approver), amount=1)
        approve_mail = mail_sink.wait_for_mail_to(approver)
        secrets |= _secrets_of(approve_mail)
        assert requests.get(link_after(approve_mail, "Approve:"), timeout=10).status_code == 200
        assert requests.post(link_after(approve_mail, "Approve:"), data={"text": ""}, timeout=10).ok
        assert approved.result(timeout=WAIT_SECONDS) == "sent 1"

        rejected = pool.submit(_gate(own_service, key, rejecter), amount=2)
        reject_mail = mail_sink.wait_for_mail_to(rejecter)
        secrets |= _secrets_of(reject_mail)
        requests.post(link_after(reject_mail, "Reject:"), data={"text": "no thanks"}, timeout=10)
        assert "no thanks" in rejected.result(timeout=WAIT_SECONDS)

        answered = pool.submit(agent_layer(own_service, key, answerer).human_as_tool(), "Which day?")
        question = mail_sink.wait_for_mail_to(answerer)
        secrets |= _secrets_of(question)
        send_email(
            own_service.smtp_port,
            mail_from=answerer,
            to=str(question["Reply-To"]),
            body="Tuesday.",
            headers=reply_headers(question),
        )
        assert answered.result(timeout=WAIT_SECONDS) == "Tuesday."
        # A wrong key and a used link are logged as failures: still without the secret.
        wrong_key = key[:-4] + "abcd"
        secrets.add(wrong_key)
        requests.get(f"{own_service.api_url}/function_calls/x", headers=_bearer(wrong_key), timeout=10)
        requests.post(link_after(approve_mail, "Approve:"), data={"text": ""}, timeout=10)
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    own_service.stop()

    log = own_service.log_path.read_text()
    # The capture holds what the SMTP library logs of each dialogue, where reply addresses pass.
    assert "mail.log" in log and "rcpt" in log.lower(), log[-2000:]
    if log_format == "json":
        assert all(json.loads(line) for line in log.splitlines() if line.strip())
    leaked = sorted(secret for secret in secrets if len(secret) >= 8 and secret in log)
    assert leaked == [], f"secrets in the log: {leaked}"


def _gate(service: RunningService, key: str, address: str) -> object:
    hl = agent_layer(service, key, address)

    @hl.require_approval()
    def send_payment(amount: int) -> str:
        return f"sent {amount}"

    return send_payment


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def _request_link(service: RunningService, mail_sink: MailSink, key: str) -> str:
    approver = unique_address("rotation")
    hl = agent_layer(service, key, approver)
    hl.create_function_call(
        FunctionCallSpec(fn="rotate_me", kwargs={}, channel=hl.contact_channel),
    )
    return link_after(mail_sink.wait_for_mail_to(approver), "Approve:")


@SQLITE_ONLY
def test_a_rotated_secret_key_keeps_mailed_links_working_until_it_is_removed(
    own_service: RunningService, mail_sink: MailSink
) -> None:
    own_service.env["SIGNOFF_SECRET_KEY"] = "first-key-of-this-test"
    own_service.start()
    key = own_service.create_key("rotation")
    old_link = _request_link(own_service, mail_sink, key)
    own_service.stop()

    own_service.env["SIGNOFF_SECRET_KEY"] = "second-key-of-this-test"
    own_service.env["SIGNOFF_OLD_SECRET_KEYS"] = "first-key-of-this-test"
    own_service.start()
    assert requests.get(old_link, timeout=10).status_code == 200
    new_link = _request_link(own_service, mail_sink, key)
    own_service.stop()

    del own_service.env["SIGNOFF_OLD_SECRET_KEYS"]
    own_service.start()
    refused = requests.get(old_link, timeout=10)
    assert refused.status_code == 400 and "This link does not work" in refused.text
    # The link mailed during the rotation was signed with the new key.
    assert requests.get(new_link, timeout=10).status_code == 200


def test_keys_list_shows_no_key_and_revoke_takes_effect_while_serving(
    own_service: RunningService,
) -> None:
    own_service.start()
    kept = own_service.create_key("revocation")
    revoked = own_service.create_key("revocation")
    status_url = f"{own_service.api_url}/function_calls/none"
    assert requests.get(status_url, headers=_bearer(revoked), timeout=10).status_code == 404

    listing = own_service.run_cli("keys", "list", "--project", "revocation")
    assert listing.returncode == 0, listing.stderr
    assert kept[:12] in listing.stdout and revoked[:12] in listing.stdout
    assert kept not in listing.stdout and revoked not in listing.stdout

    # The service keeps a key it verified for up to a second; a revocation must outlast that.
    assert requests.get(status_url, headers=_bearer(revoked), timeout=10).status_code == 404
    result = own_service.run_cli("keys", "revoke", revoked[:12])
    assert result.returncode == 0, result.stderr
    time.sleep(KEY_RECHECK_SECONDS)
    refused = requests.get(status_url, headers=_bearer(revoked), timeout=10)
    assert refused.status_code == 401
    assert "revoked" in refused.json()["detail"]
    assert requests.get(status_url, headers=_bearer(kept), timeout=10).status_code == 404
    listing = own_service.run_cli("keys", "list", "--project", "revocation")
    revoked_line = next(line for line in listing.stdout.splitlines() if revoked[:12] in line)
    assert "revoked" in revoked_line

    unknown = own_service.run_cli("keys", "revoke", "sgf_nosuchkey")
    assert unknown.returncode != 0 and "no key" in unknown.stderr.lower()


def test_a_key_stops_working_when_it_expires(own_service: RunningService) -> None:
    own_service.start()
    # A key of its own shows that one with an expiry works until then: on a loaded machine the
    # 2 s of the other may be gone before its first request.
    lasting, key = (_key_expiring_in(own_service, duration) for duration in ("1h", "2s"))
    status_url = f"{own_service.api_url}/function_calls/none"
    assert requests.get(status_url, headers=_bearer(lasting), timeout=10).status_code == 404

    def refusal() -> str | None:
        response = requests.get(status_url, headers=_bearer(key), timeout=10)
        return response.json()["detail"] if response.status_code == 401 else None

    assert "expired" in str(wait_until(refusal, timeout=10, what="the key to expire"))

    bad = own_service.run_cli("keys", "create", "--project", "expiry", "--expires-in", "soon")
    assert bad.returncode != 0 and "--expires-in" in bad.stderr
    assert requests.get(status_url, headers=_bearer(lasting), timeout=10).status_code == 404


def _key_expiring_in(service: RunningService, duration: str) -> str:
    result = service.run_cli("keys", "create", "--project", "expiry", "--expires-in", duration)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@SQLITE_ONLY
def test_pages_are_rate_limited_per_client_with_retry_after(
    own_service: RunningService, mail_sink: MailSink
) -> None:
    own_service.env["SIGNOFF_PAGE_REQUESTS_PER_MINUTE"] = "5"
    own_service.start()
    key = own_service.create_key("page-limit")
    link = _request_link(own_service, mail_sink, key)
    statuses = [requests.get(link, timeout=10).status_code for _ in range(5)]
    assert statuses == [200] * 5
    limited = requests.get(link, timeout=10)
    assert limited.status_code == 429
    assert int(limited.headers["Retry-After"]) >= 1
    assert "Too many requests" in limited.text and "<html" in limited.text.lower()
    # The API is limited per key, not by the pages' counter.
    status = requests.get(f"{own_service.api_url}/function_calls/none", headers=_bearer(key), timeout=10)
    assert status.status_code == 404
