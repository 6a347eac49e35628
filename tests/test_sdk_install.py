"""`pip install signoff` without extras: the SDK alone, in a virtualenv of its own.

The virtualenv keeps the dependencies between runs (keyed by pyproject.toml); this checkout
is installed into it afresh once per test session.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from signoff_testing import MailSink, RunningService, unique_address
from signoff_venvs import cached_venv, clean_env, fingerprint, run_python

# Every test here runs on one worker (--dist loadgroup), so that
# the virtualenv is built or refreshed once, not on each worker.
pytestmark = pytest.mark.xdist_group("sdk-venv")

REPO = Path(__file__).resolve().parents[1]
# CI sets this, so that a failed install fails the run instead of skipping these tests.
REQUIRE_SDK_INSTALL = os.environ.get("SIGNOFF_TEST_REQUIRE_SDK_INSTALL") == "1"
WHY = "`pip install .` of this checkout is needed to test the SDK-only install"

# What only the service needs: the SDK must not import any of it, and without the `server`
# extra none of the third-party ones is installed. (signoff_service itself is in the wheel,
# for the `signoff` command's launcher.)
SERVICE_DEPENDENCIES = ["flask", "sqlalchemy", "psycopg", "aiosmtpd", "jinja2", "click", "uvicorn"]

IMPORT_SDK = """
import importlib.util, json, sys
import signoff
from signoff import AsyncHumanLayer, HumanLayer

print(json.dumps({
    "all_names_import": all(hasattr(signoff, name) for name in signoff.__all__),
    "imported": sorted({name.split(".")[0] for name in sys.modules}),
    "installed": sorted(name for name in json.loads(sys.argv[1]) if importlib.util.find_spec(name)),
}))
"""

ASK_THE_SERVICE = """
import json, sys
from signoff import ContactChannel, EmailContactChannel, FunctionCallSpec, FunctionCallStatus, HumanLayer

hl = HumanLayer(contact_channel=ContactChannel(email=EmailContactChannel(address=sys.argv[1])))
call = hl.create_function_call(FunctionCallSpec(fn="sdk_only", kwargs={}))
decided = hl.respond_to_function_call(call.call_id, FunctionCallStatus(approved=True, comment="ok"))
print(json.dumps(decided.status.model_dump(mode="json")))
"""


@pytest.fixture(scope="session")
def sdk_venv() -> Path:
    key = fingerprint((REPO / "pyproject.toml").read_bytes(), sys.version)
    # The dependencies stay; the code is this checkout's, whatever an earlier run installed.
    return cached_venv(
        "signoff-sdk",
        [str(REPO)],
        key,
        required=REQUIRE_SDK_INSTALL,
        why=WHY,
        refresh=["--no-deps", "--force-reinstall", str(REPO)],
    )


def test_the_sdk_imports_without_anything_the_service_needs(sdk_venv: Path) -> None:
    finished = run_python(sdk_venv, IMPORT_SDK, json.dumps(SERVICE_DEPENDENCIES))
    assert finished.returncode == 0, finished.stderr
    found = json.loads(finished.stdout)

    assert found["all_names_import"]
    assert "signoff" in found["imported"] and "pydantic" in found["imported"]
    assert not {"signoff_service", *SERVICE_DEPENDENCIES} & set(found["imported"])
    assert found["installed"] == []


def test_the_signoff_command_says_how_to_install_the_service(sdk_venv: Path) -> None:
    finished = subprocess.run(
        [str(sdk_venv / "bin" / "signoff"), "serve"],
        capture_output=True,
        text=True,
        timeout=60,
        env=clean_env(None),
        cwd=sdk_venv,
        check=False,
    )

    assert finished.returncode != 0
    assert "pip install 'signoff[server]'" in finished.stderr
    assert "Traceback" not in finished.stderr


def test_the_sdk_alone_talks_to_the_service(
    sdk_venv: Path, service: RunningService, mail_sink: MailSink, project_key: str
) -> None:
    person = unique_address("sdk-only")
    env = {"SIGNOFF_API_KEY": project_key, "SIGNOFF_API_BASE": service.api_url}

    finished = run_python(sdk_venv, ASK_THE_SERVICE, person, env=env)

    assert finished.returncode == 0, finished.stderr
    status = json.loads(finished.stdout)
    assert status["approved"] is True and status["comment"] == "ok"
    mail_sink.wait_for_mail_to(person)
