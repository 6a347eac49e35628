"""The operator dashboard over HTTP, as a browser without JavaScript uses it: pages and form POSTs."""

from __future__ import annotations

import json
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

from signoff import FunctionCallSpec
from signoff_service.dashboard.live import MAX_STREAMS

from signoff_testing import (
    ADMIN_PASSWORD,
    SQLITE_ONLY,
    WAIT_SECONDS,
    MailSink,
    Operator,
    RunningService,
    agent_layer,
    link_after,
    reply_headers,
    request_id_of,
    send_email,
    unique_address,
    wait_until,
)


def _admin(service: RunningService) -> Operator:
    operator = Operator(service)
    assert operator.login(ADMIN_PASSWORD).status_code == 303
    return operator


def _ask(service: RunningService, key: str, person: str, fn: str, **kwargs: object) -> str:
    """A function call waiting for approval; returns its call_id."""
    hl = agent_layer(service, key, person)
    return hl.create_function_call(FunctionCallSpec(fn=fn, kwargs=kwargs)).call_id


def _status(service: RunningService, key: str, call_id: str) -> dict:
    response = requests.get(
        f"{service.api_url}/function_calls/{call_id}", headers={"Authorization": f"Bearer {key}"}, timeout=10
    )
    assert response.status_code == 200, response.text
    return response.json()["status"]


@SQLITE_ONLY
def test_the_dashboard_asks_for_a_login_first(service: RunningService) -> None:
    operator = Operator(service)
    response = operator.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/dashboard/login")
    page = operator.get("/login")
    assert page.status_code == 200
    assert 'type="password"' in page.text


def test_the_admin_password_shows_every_project(service: RunningService, mail_sink: MailSink) -> None:
    key_a, key_b = service.write_key("dash-admin-a"), service.write_key("dash-admin-b")
    _ask(service, key_a, unique_address("a"), "refund_order", order=1)
    _ask(service, key_b, unique_address("b"), "close_account", account=2)
    page = _admin(service).get("/")
    assert page.status_code == 200
    assert "refund_order" in page.text and "close_account" in page.text
    assert "dash-admin-a" in page.text and "dash-admin-b" in page.text


def test_a_project_key_shows_its_own_project_only(service: RunningService) -> None:
    mine, theirs = service.write_key("dash-mine"), service.write_key("dash-theirs")
    _ask(service, mine, unique_address("mine"), "send_invoice", invoice=7)
    their_call = _ask(service, theirs, unique_address("theirs"), "wipe_disk", disk="sda")
    operator = Operator(service)
    assert operator.login(mine).status_code == 303
    page = operator.get("/")
    assert "send_invoice" in page.text
    assert "wipe_disk" not in page.text
    their_id = request_id_of(service, their_call)
    assert operator.get(f"/requests/{their_id}").status_code == 404
    refused = operator.submit(f"/requests/{their_id}/cancel")
    assert refused.status_code == 404
    assert _status(service, theirs, their_call)["responded_at"] is None
    assert mine not in service.log_path.read_text()


@SQLITE_ONLY
def test_a_wrong_password_is_refused(service: RunningService) -> None:
    operator = Operator(service)
    response = operator.login("not-the-password")
    assert response.status_code == 401
    assert "did not match" in response.text
    assert "not-the-password" not in response.text
    assert operator.get("/").status_code == 302  # still logged out
    assert "not-the-password" not in service.log_path.read_text()


@SQLITE_ONLY
def test_repeated_wrong_passwords_are_throttled(
    private_database_url: str, mail_sink: MailSink, tmp_path: Path
) -> None:
    own = RunningService.configure(private_database_url, mail_sink, tmp_path)
    own.start()
    try:
        operator = Operator(own)
        statuses = [operator.login(f"guess-{attempt}").status_code for attempt in range(6)]
        assert statuses[:5] == [401] * 5
        assert statuses[5] == 429
        # Locked out for a while: even the right password waits.
        locked = operator.login(ADMIN_PASSWORD)
        assert locked.status_code == 429
        assert int(locked.headers["Retry-After"]) > 0
        assert "Too many" in locked.text
    finally:
        own.stop()


@SQLITE_ONLY
def test_the_session_cookie_is_httponly_and_strict(service: RunningService) -> None:
    operator = Operator(service)
    response = operator.login(ADMIN_PASSWORD)
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("signoff_dashboard=")
    assert "HttpOnly" in cookie
    assert "SameSite=Strict" in cookie
    assert "Path=/dashboard" in cookie
    assert "Expires=" in cookie
    assert "Secure" not in cookie  # plain http on loopback


@SQLITE_ONLY
def test_the_cookie_is_secure_when_the_service_is_served_over_https(
    private_database_url: str, mail_sink: MailSink, tmp_path: Path
) -> None:
    own = RunningService.configure(private_database_url, mail_sink, tmp_path)
    own.env["SIGNOFF_BASE_URL"] = "https://signoff.example.com"
    own.start()
    try:
        # The login page already sets the cookie (it carries the form's CSRF token); a
        # client on plain http never sends a Secure cookie back, so that is where to look.
        cookie = Operator(own).get("/login").headers["Set-Cookie"]
        assert cookie.startswith("signoff_dashboard=")
        assert "Secure" in cookie
    finally:
        own.stop()


def test_a_form_without_the_csrf_token_changes_nothing(service: RunningService, project_key: str) -> None:
    call_id = _ask(service, project_key, unique_address("csrf"), "drop_table", table="users")
    request_id = request_id_of(service, call_id)
    operator = _admin(service)
    missing = operator.post(f"/requests/{request_id}/decide", action="approve")
    assert missing.status_code == 400
    assert "form has expired" in missing.text
    wrong = operator.post(f"/requests/{request_id}/cancel", csrf_token="forged")
    assert wrong.status_code == 400
    assert _status(service, project_key, call_id)["responded_at"] is None
    # The login form is protected too.
    assert Operator(service).post("/login", secret=ADMIN_PASSWORD).status_code == 400


def test_html_in_arguments_is_shown_as_text(service: RunningService, project_key: str) -> None:
    call_id = _ask(
        service, project_key, unique_address("xss"), "post_comment", body="<script>alert(1)</script>"
    )
    operator = _admin(service)
    for page in (operator.get("/"), operator.get(f"/requests/{request_id_of(service, call_id)}")):
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
        assert "<script>alert(1)" not in page.text


def test_filters_narrow_the_list(service: RunningService, project_key: str) -> None:
    alice, bob = unique_address("alice"), unique_address("bob")
    _ask(service, project_key, alice, "rotate_keys", scope="all")
    decided = _ask(service, project_key, bob, "restart_db", db="main")
    operator = _admin(service)
    request_id = request_id_of(service, decided)
    operator.submit(f"/requests/{request_id}/decide", action="reject", text="not now")
    by_recipient = operator.get("/", recipient=alice).text
    assert "rotate_keys" in by_recipient and "restart_db" not in by_recipient
    rejected = operator.get("/", state="rejected", function="restart_db").text
    assert "restart_db" in rejected and "rotate_keys" not in rejected
    pending = operator.get("/", state="pending", recipient=bob).text
    assert "restart_db" not in pending
    assert "No requests match" in operator.get("/", date_from="2999-01-01").text


def test_deciding_in_the_dashboard_returns_the_waiting_sdk_call(
    service: RunningService, project_key: str
) -> None:
    person = unique_address("decider")
    hl = agent_layer(service, project_key, person)

    @hl.require_approval()
    def pay_supplier(amount: int) -> str:
        return f"paid {amount}"

    with ThreadPoolExecutor(max_workers=1) as pool:
        future = pool.submit(pay_supplier, amount=120)
        operator = _admin(service)
        request_id = _listed(operator, "pay_supplier")
        decided = operator.submit(
            f"/requests/{request_id}/decide", action="reject", text="Too much <b>now</b>"
        )
        assert decided.status_code == 303
        assert (
            future.result(timeout=WAIT_SECONDS)
            == "User denied pay_supplier with message: Too much <b>now</b>"
        )
    detail = operator.get(f"/requests/{request_id}").text
    assert "Rejected by admin" in detail
    assert "Too much &lt;b&gt;now&lt;/b&gt;" in detail
    again = operator.submit(f"/requests/{request_id}/decide", action="approve")
    assert again.status_code == 409
    assert "already" in again.text


def test_the_detail_shows_emails_replies_and_the_audit_trail(
    service: RunningService, mail_sink: MailSink, project_key: str
) -> None:
    person, stranger = unique_address("detail"), unique_address("stranger")
    call_id = _ask(service, project_key, person, "merge_branch", branch="main")
    message = mail_sink.wait_for_mail_to(person)
    reply_to = str(message["Reply-To"])
    send_email(
        service.smtp_port, mail_from=stranger, to=reply_to, body="approve", headers=reply_headers(message)
    )
    service.processed_inbound_to(reply_to)
    operator = _admin(service)
    page = operator.get(f"/requests/{request_id_of(service, call_id)}").text
    emails = _section(page, "emails")
    assert "Approval needed: merge_branch" in emails and person in emails and "sent" in emails
    inbound = _section(page, "inbound")
    assert stranger in inbound and "sender_not_allowed" in inbound
    trail = _section(page, "audit")
    assert "created" in trail and "emailed" in trail
    # No secrets: neither the reply address nor the links' tokens.
    token = reply_to.split("+", 1)[1].split("@", 1)[0]
    assert token not in page
    assert link_after(message, "Approve:").rsplit("/", 1)[1] not in page


def test_resend_queues_the_email_again(
    service: RunningService, mail_sink: MailSink, project_key: str
) -> None:
    person = unique_address("resend")
    call_id = _ask(service, project_key, person, "renew_domain", domain="example.org")
    first = mail_sink.wait_for_mail_to(person)
    operator = _admin(service)
    request_id = request_id_of(service, call_id)
    assert operator.submit(f"/requests/{request_id}/resend").status_code == 303
    again = mail_sink.wait_for_mail_to(person, count=2)
    assert again["Subject"] == first["Subject"]
    assert again["In-Reply-To"] == first["Message-ID"]
    page = operator.get(f"/requests/{request_id}").text
    assert "resent" in _section(page, "audit")
    assert _section(page, "emails").count("renew_domain") == 2


def test_cancel_withdraws_the_request_and_everyone_sees_it(
    service: RunningService, mail_sink: MailSink, project_key: str
) -> None:
    person = unique_address("cancel")
    call_id = _ask(service, project_key, person, "launch_rocket", target="moon")
    message = mail_sink.wait_for_mail_to(person)
    operator = _admin(service)
    request_id = request_id_of(service, call_id)
    assert operator.submit(f"/requests/{request_id}/cancel").status_code == 303
    status = _status(service, project_key, call_id)
    assert status["withdrawn"] is True
    assert status["approved"] is False
    assert status["comment"] == "The request to run launch_rocket was withdrawn by admin."
    link_page = requests.get(link_after(message, "Approve:"), timeout=10)
    assert "withdrawn" in link_page.text.lower()
    page = operator.get(f"/requests/{request_id}").text
    assert "withdrawn" in _section(page, "audit")
    refused = operator.submit(f"/requests/{request_id}/resend")
    assert refused.status_code == 409
    assert operator.get("/", state="withdrawn", function="launch_rocket").text.count("launch_rocket") >= 1


def test_cancel_wakes_a_waiting_sdk_call(service: RunningService, project_key: str) -> None:
    hl = agent_layer(service, project_key, unique_address("waiting"))

    @hl.require_approval()
    def format_disk(disk: str) -> str:
        return "formatted"

    with ThreadPoolExecutor(max_workers=1) as pool:
        future = pool.submit(format_disk, disk="sdb")
        operator = _admin(service)
        request_id = _listed(operator, "format_disk")
        operator.submit(f"/requests/{request_id}/cancel")
        assert future.result(timeout=WAIT_SECONDS) == "The request to run format_disk was withdrawn by admin."


def test_the_stream_announces_new_requests_and_blocks_nothing(
    service: RunningService, project_key: str
) -> None:
    operator = _admin(service)
    events: list[dict] = []
    stop = threading.Event()

    def listen() -> None:
        with operator.http.get(f"{operator.base}/stream", stream=True, timeout=WAIT_SECONDS) as response:
            assert response.headers["Content-Type"].startswith("text/event-stream")
            for line in response.iter_lines(decode_unicode=True):
                if line.startswith("data:"):
                    events.append(json.loads(line[5:]))
                if stop.is_set():
                    return

    listener = threading.Thread(target=listen, daemon=True)
    listener.start()
    wait_until(lambda: events, what="the first event")
    first = events[0]["latest"]
    # While the stream is open, other requests are served.
    assert requests.get(f"{service.base_url}/healthz", timeout=5).status_code == 200
    _ask(service, project_key, unique_address("stream"), "announce_me")
    wait_until(lambda: any(event["latest"] > first for event in events), what="an event for the new request")
    stop.set()
    polled = operator.get("/changes").json()
    assert polled["latest"] >= events[-1]["latest"]


def test_a_question_is_answered_or_withdrawn_from_the_dashboard(
    service: RunningService, project_key: str
) -> None:
    ask = agent_layer(service, project_key, unique_address("asked")).human_as_tool()
    operator = Operator(service)
    assert operator.login(project_key).status_code == 303
    with ThreadPoolExecutor(max_workers=2) as pool:
        answered = pool.submit(ask, "Which region should the <i>new</i> cluster go to?")
        withdrawn = pool.submit(ask, "Shall I delete the old backups?")
        wait_until(
            lambda: operator.get("/", state="pending").text.count('class="question"') == 2, what="both"
        )
        for request_id in set(re.findall(r'href="/dashboard/requests/(\d+)"', operator.get("/").text)):
            page = operator.get(f"/requests/{request_id}").text
            assert "&lt;i&gt;new&lt;/i&gt;" in page or "old backups" in page
            if "old backups" in page:
                operator.submit(f"/requests/{request_id}/cancel")
            else:
                empty = operator.submit(f"/requests/{request_id}/decide", action="respond", text=" ")
                assert empty.status_code == 422
                operator.submit(f"/requests/{request_id}/decide", action="respond", text="eu-west, please")
        project = f"project project-{test_a_question_is_answered_or_withdrawn_from_the_dashboard.__name__}"
        assert answered.result(timeout=WAIT_SECONDS) == "eu-west, please"
        said = withdrawn.result(timeout=WAIT_SECONDS)
        assert said.startswith(f"The question was withdrawn by {project}") and "no one will answer" in said
    assert operator.get("/", state="answered").text.count('class="question"') == 1
    assert operator.get("/", state="withdrawn").text.count('class="question"') == 1


def test_a_request_nobody_withdrew_says_so_as_null(service: RunningService, project_key: str) -> None:
    call_id = _ask(service, project_key, unique_address("plain"), "plain_call")
    assert _status(service, project_key, call_id)["withdrawn"] is None


@SQLITE_ONLY
def test_past_the_stream_limit_pages_poll_and_the_service_answers(
    private_database_url: str, mail_sink: MailSink, tmp_path: Path
) -> None:
    own = RunningService.configure(private_database_url, mail_sink, tmp_path)
    own.start()
    try:
        operator = _admin(own)
        opened: list[requests.Response] = []
        try:
            for _ in range(MAX_STREAMS):
                opened.append(operator.http.get(f"{operator.base}/stream", stream=True, timeout=WAIT_SECONDS))
            assert [response.status_code for response in opened] == [200] * MAX_STREAMS
            refused = operator.get("/stream")
            assert refused.status_code == 503
            assert operator.get("/changes").status_code == 200
            assert operator.get("/").status_code == 200
        finally:
            for response in opened:
                response.close()
    finally:
        # Each stream's thread runs for STREAM_SECONDS (25 s) whether or not its client is still
        # there, and a graceful stop waits for them; nothing here needs a clean shutdown.
        own.kill_hard()


@SQLITE_ONLY
def test_logout_ends_the_session(service: RunningService) -> None:
    operator = _admin(service)
    assert operator.get("/").status_code == 200
    assert operator.submit("/logout").status_code == 303
    assert operator.get("/").status_code == 302


def _listed(operator: Operator, fn: str) -> int:
    """The id of the one request for `fn`, once the list shows it."""

    def listed_ids() -> set[str]:
        return set(re.findall(r'href="/dashboard/requests/(\d+)"', operator.get("/", function=fn).text))

    ids = wait_until(listed_ids, what=f"{fn} in the list")
    assert len(ids) == 1, ids
    return int(ids.pop())


def _section(page: str, name: str) -> str:
    found = re.search(rf'<section id="{name}".*?</section>', page, re.S)
    assert found, f"no {name} section"
    return found.group(0)
