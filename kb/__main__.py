"""The `kb` console script (and `python -m kb`): the `flask kb` commands on the app create_app() makes."""

from __future__ import annotations

from flask.cli import ScriptInfo

from . import create_app
from .cli import kb_cli


def main() -> None:
    """Run the `kb` commands on the app that create_app() makes from the environment."""
    kb_cli.main(prog_name="kb", obj=ScriptInfo(create_app=create_app))


if __name__ == "__main__":
    main()
