"""examples/plain_script.py, run as a user runs it, against `signoff serve`."""

from __future__ import annotations

from framework_testing import click, example_env, reply, start_example, wait_for_mail_about
from signoff_testing import WAIT_SECONDS, MailSink, RunningService, text_body, unique_address


def test_approved_migration_runs_and_the_reply_is_printed(
    service: RunningService, mail_sink: MailSink, project_key: str
) -> None:
    dba = unique_address("dba")
    script = start_example("plain_script", [dba], example_env(service, project_key))
    try:
        approval = wait_for_mail_about(mail_sink, dba, "run_migration")
        assert "0042_split_address_columns" in text_body(approval)
        click(approval, "Approve:")
        question = wait_for_mail_about(mail_sink, dba, "When to announce")
        reply(service, dba, question, "Tomorrow at 9, in the support stand-up.")
        stdout, stderr = script.communicate(timeout=WAIT_SECONDS)
    finally:
        script.kill()

    assert script.returncode == 0, stderr
    assert stdout.splitlines() == [
        "applied 0042_split_address_columns to orders",
        "Announcement: Tomorrow at 9, in the support stand-up.",
    ]


def test_rejection_by_reply_stops_the_script_with_the_reason(
    service: RunningService, mail_sink: MailSink, project_key: str
) -> None:
    dba = unique_address("dba")
    script = start_example("plain_script", [dba], example_env(service, project_key))
    try:
        approval = wait_for_mail_about(mail_sink, dba, "run_migration")
        reply(service, dba, approval, "Not tonight, the nightly backup is still running.")
        stdout, stderr = script.communicate(timeout=WAIT_SECONDS)
    finally:
        script.kill()

    assert script.returncode == 1, stderr
    assert stdout.strip() == "Not migrating: Not tonight, the nightly backup is still running."
