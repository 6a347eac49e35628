"""The decision pages in a real headless Chromium, as a person on a laptop or phone sees them."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from signoff import ContactChannel, EmailContactChannel, HumanLayer

from signoff_testing import WAIT_SECONDS, MailSink, RunningService, link_after, unique_address

# Every test here runs on one worker (--dist loadgroup), so that
# Chromium is launched once, not on each worker.
pytestmark = pytest.mark.xdist_group("pages-browser")

ARTIFACTS = Path(os.environ.get("SIGNOFF_TEST_ARTIFACTS", "test-artifacts"))


@pytest.mark.browser
def test_a_person_rejects_in_the_browser_and_the_agent_hears_why(
    service: RunningService, mail_sink: MailSink, project_key: str, browser: object
) -> None:
    person = unique_address("browser")
    hl = HumanLayer(
        api_key=project_key,
        api_base_url=service.api_url,
        contact_channel=ContactChannel(email=EmailContactChannel(address=person)),
    )

    @hl.require_approval()
    def publish_post(title: str, body: str) -> str:
        return "published"

    with ThreadPoolExecutor(max_workers=1) as pool:
        future = pool.submit(publish_post, title="<script>alert('x')</script>", body="Hello <b>world</b>")
        message = mail_sink.wait_for_mail_to(person)

        page = browser.new_page(viewport={"width": 390, "height": 844})  # a phone
        page.goto(link_after(message, "Reject:"))
        assert page.locator("h1").inner_text() == "Run publish_post?"
        # What the agent sent is shown as text, never run as markup.
        assert "<script>alert('x')</script>" in page.locator("table.arguments").inner_text()
        assert page.evaluate("document.querySelectorAll('main script, main b').length") == 0
        _screenshot(page, "reject-form-phone")

        page.fill("textarea[name=text]", "Not on the company blog, please.")
        page.click("button.reject")
        assert page.locator("h1").inner_text() == "Rejected"
        assert person in page.locator(".decided-by").inner_text()
        _screenshot(page, "rejected-phone")
        assert future.result(timeout=WAIT_SECONDS) == (
            "User denied publish_post with message: Not on the company blog, please."
        )
        page.close()


def _screenshot(page: object, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


@pytest.mark.browser
def test_the_approval_email_is_saved_as_html_and_a_screenshot(
    service: RunningService, mail_sink: MailSink, project_key: str, browser: object
) -> None:
    from signoff import FunctionCallSpec, ResponseOption

    from signoff_testing import html_body

    person = unique_address("screenshot")
    hl = HumanLayer(
        api_key=project_key,
        api_base_url=service.api_url,
        contact_channel=ContactChannel(
            email=EmailContactChannel(address=person, context_about_user="You own the payments budget.")
        ),
    )
    hl.create_function_call(
        FunctionCallSpec(
            fn="transfer_funds",
            kwargs={
                "amount": 1250,
                "currency": "EUR",
                "to": {"iban": "DE02 1203 0000 0000 2020 51", "name": "ACME"},
            },
            reject_options=[
                ResponseOption(name="too_much", title="Too much", description="Over the monthly limit")
            ],
        )
    )
    html = html_body(mail_sink.wait_for_mail_to(person))
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "approval-email.html").write_text(html, encoding="utf-8")
    for name, viewport in (
        ("desktop", {"width": 1024, "height": 900}),
        ("phone", {"width": 390, "height": 844}),
    ):
        page = browser.new_page(viewport=viewport)
        page.set_content(html)
        visible = page.locator("body").inner_text()
        assert "Approval needed: transfer_funds" in visible and "Reject: Too much" in visible
        assert page.get_by_role("link", name="Approve").is_visible()
        _screenshot(page, f"approval-email-{name}")
        page.close()
