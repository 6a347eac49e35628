"""The operator dashboard in a real headless Chromium, on a desktop and on a phone."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from signoff import FunctionCallSpec

from signoff_testing import (
    ADMIN_PASSWORD,
    SQLITE_ONLY,
    WAIT_SECONDS,
    MailSink,
    RunningService,
    agent_layer,
    unique_address,
    wait_until,
)

# Every test here runs on one worker (--dist loadgroup), so that
# Chromium is launched once, not on each worker.
pytestmark = pytest.mark.xdist_group("dashboard-browser")

ARTIFACTS = Path(
    os.environ.get("SIGNOFF_TEST_ARTIFACTS", Path(__file__).resolve().parent.parent / "test-artifacts")
)
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
TIMEOUT_MS = WAIT_SECONDS * 1000


def _log_in(page: object, service: RunningService, secret: str = ADMIN_PASSWORD) -> None:
    page.goto(f"{service.base_url}/dashboard/")
    page.fill("input[name=secret]", secret)
    page.click("form.login button")


def _screenshot(page: object, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    print(f"screenshot: {path}")
    return path


def _fits_the_screen(page: object) -> bool:
    """Nothing on the page scrolls sideways (what a phone's width needs)."""
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.mark.browser
def test_a_new_request_appears_live_and_the_operator_decides_it(
    service: RunningService, project_key: str, browser: object
) -> None:
    hl = agent_layer(service, project_key, unique_address("live"))

    @hl.require_approval()
    def publish_release(version: str) -> str:
        return f"released {version}"

    page = browser.new_page(viewport=DESKTOP)
    page.set_default_timeout(TIMEOUT_MS)
    _log_in(page, service)
    assert page.locator("h1").inner_text() == "Requests"
    page.wait_for_selector("#live:text('Live updates on.')")
    # Anything set on this window survives only if the page is never reloaded.
    page.evaluate("window.stillTheSamePage = true")

    with ThreadPoolExecutor(max_workers=1) as pool:
        future = pool.submit(publish_release, version="9.9.<b>9</b>")
        row = page.locator("tr.state-pending", has_text="publish_release")
        row.wait_for()
        assert page.evaluate("window.stillTheSamePage") is True
        assert "9.9.<b>9</b>" in row.inner_text()
        _screenshot(page, "dashboard-list-desktop")
        page.set_viewport_size(PHONE)
        assert _fits_the_screen(page)
        _screenshot(page, "dashboard-list-phone")
        page.set_viewport_size(DESKTOP)

        row.locator("a").first.click()
        assert "publish_release" in page.locator("h1").inner_text()
        page.fill("textarea[name=text]", "Ship it.")
        page.click("button.approve")
        assert "recorded" in page.locator(".flash").inner_text()
        assert future.result(timeout=WAIT_SECONDS) == "released 9.9.<b>9</b>"
    assert "Approved by admin" in page.locator("#outcome").inner_text()
    page.close()


@pytest.mark.browser
def test_the_list_falls_back_to_polling_without_server_sent_events(
    service: RunningService, project_key: str, browser: object
) -> None:
    page = browser.new_page(viewport=DESKTOP)
    page.set_default_timeout(TIMEOUT_MS)
    page.add_init_script("delete window.EventSource")
    _log_in(page, service)
    page.wait_for_selector("#live:text('checking every few seconds')")
    hl = agent_layer(service, project_key, unique_address("poll"))
    hl.create_function_call(FunctionCallSpec(fn="polled_in", kwargs={}))
    page.locator("tr", has_text="polled_in").wait_for()
    page.close()


@pytest.mark.browser
def test_the_detail_shows_the_emails_and_the_audit_trail(
    service: RunningService, mail_sink: MailSink, project_key: str, browser: object
) -> None:
    person = unique_address("detail")
    hl = agent_layer(service, project_key, person)
    hl.create_function_call(FunctionCallSpec(fn="rotate_certificates", kwargs={"host": "db-1"}))
    mail_sink.wait_for_mail_to(person)
    page = browser.new_page(viewport=DESKTOP)
    page.set_default_timeout(TIMEOUT_MS)
    _log_in(page, service)
    page.goto(f"{service.base_url}/dashboard/?function=rotate_certificates")
    page.locator("tr", has_text="rotate_certificates").locator("a").first.click()

    def emailed() -> bool:
        page.reload()
        return "emailed" in page.locator("#audit").inner_text()

    wait_until(emailed, what="the emailed event on the page")
    emails = page.locator("#emails").inner_text()
    assert "Approval needed: rotate_certificates" in emails and person in emails
    trail = page.locator("#audit").inner_text()
    assert "created" in trail and "emailed" in trail
    _screenshot(page, "dashboard-detail-desktop")
    page.set_viewport_size(PHONE)
    assert _fits_the_screen(page)
    _screenshot(page, "dashboard-detail-phone")
    page.close()


@pytest.mark.browser
def test_a_wrong_password_is_refused_in_the_browser(service: RunningService, browser: object) -> None:
    page = browser.new_page(viewport=PHONE)
    page.set_default_timeout(TIMEOUT_MS)
    _log_in(page, service, secret="letmein")
    assert page.locator("h1").inner_text() == "Log in"
    assert "did not match" in page.locator(".problem").inner_text()
    page.goto(f"{service.base_url}/dashboard/")
    assert page.locator("h1").inner_text() == "Log in"
    _screenshot(page, "dashboard-login-refused-phone")
    page.close()


@pytest.mark.browser
@SQLITE_ONLY
def test_a_form_without_its_csrf_token_is_refused_in_the_browser(
    service: RunningService, project_key: str, browser: object
) -> None:
    hl = agent_layer(service, project_key, unique_address("forged"))
    call = hl.create_function_call(FunctionCallSpec(fn="drop_replica", kwargs={"name": "eu-2"}))
    page = browser.new_page(viewport=DESKTOP)
    page.set_default_timeout(TIMEOUT_MS)
    _log_in(page, service)
    page.goto(f"{service.base_url}/dashboard/?function=drop_replica")
    page.locator("tr", has_text="drop_replica").locator("a").first.click()
    # What a forged form from another page would lack: the token the dashboard put in its own.
    page.evaluate("document.querySelectorAll('input[name=csrf_token]').forEach(field => field.remove())")
    with page.expect_response(lambda response: response.request.method == "POST") as posted:
        page.click("button.cancel")
    assert posted.value.status == 400
    assert "did not come from the dashboard" in page.locator("body").inner_text()
    status = hl.get_function_call(call.call_id).status
    assert status is not None and status.responded_at is None and not status.withdrawn
    page.close()
