"""docs/cli.md is the command's own help, made by `contractlang.cli.reference`: it cannot drift from the parser.

Regenerate after changing an option: `CONTRACTLANG_REGOLD=1 .venv/bin/python -m pytest tests/test_cli_reference.py`.
"""

from __future__ import annotations

import os
from pathlib import Path

from contractlang.cli import build_parser, reference

PAGE = Path(__file__).resolve().parents[1] / "docs" / "cli.md"


def test_the_cli_reference_is_the_parsers_help():
    text = reference()
    if os.environ.get("CONTRACTLANG_REGOLD") == "1":
        PAGE.write_text(text, encoding="utf-8")
    assert PAGE.read_text(encoding="utf-8") == text


def test_every_command_and_option_is_on_the_page():
    page = PAGE.read_text(encoding="utf-8")
    parser = build_parser()
    commands = next(a for a in parser._actions if a.dest == "command").choices
    for name, sub in commands.items():
        assert f"## `contractlang {name}`" in page
        for action in sub._actions:
            for flag in action.option_strings:
                assert flag in page, (name, flag)
