"""docs/threat-model.md lists every limit of contractlang/limits.py with its value, and nothing else."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path

from contractlang import limits

PAGE = Path(__file__).resolve().parents[1] / "docs" / "threat-model.md"


def _limits() -> dict[str, str]:
    out = {}
    for name in dir(limits):
        value = getattr(limits, name)
        if name.isupper() and isinstance(value, (int, Decimal, dt.date)) and not isinstance(value, bool):
            out[name] = value.isoformat() if isinstance(value, dt.date) else str(int(value))
    return out


def test_threat_model_lists_every_limit_with_its_value():
    rows = dict(re.findall(r"^\| `([A-Z_]+)`[^|]*\| ([^|]+?) \|", PAGE.read_text(encoding="utf-8"), flags=re.M))
    assert rows == _limits()


def test_threat_model_is_in_the_navigation():
    assert "threat-model.md" in (PAGE.parents[1] / "mkdocs.yml").read_text(encoding="utf-8")
