"""Run a small Python script as a person at a terminal would: its input() reads what we type."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path


def run_typing(script: str, typed: str, cwd: Path) -> str:
    """Run `script` in a fresh interpreter, typing `typed` at its prompts; returns its stdout.

    The environment is the test's own, which tests/conftest.py has cleared of SIGNOFF_* and
    HUMANLAYER_* settings, so the script starts in CLI mode unless it asks otherwise.
    """
    finished = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)],
        input=typed,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
        check=False,
    )
    assert finished.returncode == 0, finished.stderr
    return finished.stdout
