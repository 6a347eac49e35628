"""The `signoff` command's entry point.

`pip install signoff` (the SDK alone) installs the command too, but not the service's
dependencies; say how to get them instead of failing with a traceback.
"""

from __future__ import annotations

import sys


def main() -> None:
    try:
        from .cli import main as cli_main
    except ModuleNotFoundError as exc:
        sys.exit(
            f"signoff: the service is not installed (missing module {exc.name!r}). "
            "Install it with: pip install 'signoff[server]'"
        )
    from .config import ConfigError
    from .store.schema import SchemaNotCurrent

    try:
        cli_main()
    except (ConfigError, SchemaNotCurrent) as exc:
        sys.exit(f"signoff: {exc}")
