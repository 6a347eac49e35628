"""Virtualenvs with packages from PyPI, for tests that run code outside the test's own env.

A virtualenv is built once and kept under the temp dir, keyed by what it holds, so a second
run of the suite does not download anything again. Without PyPI the tests that need one
are skipped, unless the caller requires them (CI does), then they fail.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

VENV_ROOT = Path(tempfile.gettempdir()) / "signoff-test-venvs"
INSTALL_TIMEOUT_SECONDS = 600
READY_MARKER = "signoff-test-ready"


def fingerprint(*parts: str | bytes) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode() if isinstance(part, str) else part)
        digest.update(b"\0")
    return digest.hexdigest()[:16]


def venv_python(venv: Path) -> Path:
    return venv / "bin" / "python"


def cached_venv(
    name: str, pip_args: list[str], key: str, *, required: bool, why: str, refresh: list[str] | None = None
) -> Path:
    """A virtualenv named `name`-`key` in which `pip install <pip_args>` has succeeded.

    `why` says in a skip or failure message what the packages are for. `refresh`: what to
    `pip install` again into a virtualenv built before, for what changes without the key.
    """
    VENV_ROOT.mkdir(parents=True, exist_ok=True)
    venv = VENV_ROOT / f"{name}-{key}"
    with _exclusive(VENV_ROOT / f"{name}.lock"):
        if not (venv / READY_MARKER).exists():
            shutil.rmtree(venv, ignore_errors=True)
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
            pip(venv, pip_args, required=required, why=why)
            (venv / READY_MARKER).write_text(" ".join(pip_args) + "\n")
        elif refresh:
            pip(venv, refresh, required=required, why=why)
    return venv


def pip(venv: Path, pip_args: list[str], *, required: bool, why: str) -> None:
    """Run pip in `venv`; skip (or fail, if `required`) when it cannot install."""
    finished = subprocess.run(
        [str(venv_python(venv)), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *pip_args],
        capture_output=True,
        text=True,
        timeout=INSTALL_TIMEOUT_SECONDS,
        check=False,
    )
    if finished.returncode == 0:
        return
    shutil.rmtree(venv, ignore_errors=True)
    message = (
        f"{why}: `pip install {' '.join(pip_args)}` failed in a fresh virtualenv "
        f"(no access to PyPI?):\n{finished.stderr[-2000:]}"
    )
    if required:
        pytest.fail(message)
    pytest.skip(message)


@contextmanager
def _exclusive(lock_path: Path) -> Iterator[None]:
    # Two test runs on one machine (a developer's and CI's) must not build the same venv at once.
    with lock_path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def run_python(
    venv: Path, script: str, *args: str, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run `script` with the venv's Python, outside this test's environment."""
    return subprocess.run(
        [str(venv_python(venv)), "-c", script, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=clean_env(env),
        cwd=venv,
        check=False,
    )


def start_python(
    venv: Path, script: str, *args: str, env: dict[str, str] | None = None
) -> subprocess.Popen[str]:
    """Start `script` with the venv's Python; the caller waits for it (or kills it)."""
    return subprocess.Popen(
        [str(venv_python(venv)), "-c", script, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=clean_env(env),
        cwd=venv,
    )


def clean_env(extra: dict[str, str] | None) -> dict[str, str]:
    """This process's environment without our settings or its virtualenv, plus `extra`."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("SIGNOFF_", "HUMANLAYER_", "PYTHON", "VIRTUAL_ENV"))
    }
    return env | (extra or {})
