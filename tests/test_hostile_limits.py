"""Hostile input, class 1 and 7 of issue 12: what passed `check` and crashed later is now refused by `check`.

Every limit lives in `contractlang/limits.py`; each test here feeds a contract one step beyond a
limit and asserts a located CL018 (never a traceback, never a settlement), and one step within it
settles. Also: `pay 0.005 DKK` is half an øre, not a Danish thousands separator.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from contractlang import limits
from contractlang.check import check
from contractlang.cli import main
from contractlang.errors import CODES, ParseError
from contractlang.expressions import EvalError, add_months
from contractlang.parse import parse_text

ROOT = Path(__file__).resolve().parents[1]
RATE_CARD = ROOT / "contracts" / "examples" / "rate-card"
SOURCE = (RATE_CARD / "rate-card.contract").read_text(encoding="utf-8")
BIG = "9" * 5000  # beyond Python's 4,300-digit limit on int ↔ str


def _variant(tmp_path: Path, old: str, new: str, name: str = "v.contract") -> Path:
    assert old in SOURCE
    path = tmp_path / name
    path.write_text(SOURCE.replace(old, new, 1), encoding="utf-8")
    return path


def _diagnostics(path: Path) -> list:
    try:
        return check(parse_text(path.read_text(encoding="utf-8"), str(path)))
    except ParseError as exc:
        return list(exc.diagnostics)


def _errors(path: Path) -> list:
    return [d for d in _diagnostics(path) if d.severity == "error"]


@pytest.mark.parametrize("old, new, line_fragment", [
    ("pay 4_000 DKK per participant", f"pay {BIG} DKK per participant", "pay 9999"),
    ("pay 4_000 DKK per participant", "pay 1" + "0" * 48 + " DKK per participant", "pay 1000"),
    ("rounding line 2 places", f"rounding line {BIG} places", "rounding line"),
    ("tranche 1: Investor 100 %", f"tranche {BIG}: Investor 100 %", "tranche 9"),
    ("integer 0 to 52 at m12", f"integer 0 to {BIG} at m12", "measure employed_weeks"),
    ("cap Kommunen 40_000 DKK", "cap Kommunen 40_000.00000000001 DKK", "cap Kommunen"),
    ("point m6 = start + 6 months", "point m6 = start + 999999999 months", "point m6"),
    ("pay 4_000 DKK per participant", "pay 1_000_000_000_001 DKK per participant", "pay 1_000"),
    ("intervention 2025-01-01", "intervention 1899-12-31", "intervention 1899"),
    ("data collection ends 2027-12-31", "data collection ends 2200-01-01", "data collection"),
])
def test_beyond_a_limit_is_a_located_check_error(tmp_path, capsys, old, new, line_fragment):
    path = _variant(tmp_path, old, new)
    errors = _errors(path)
    assert [d.code for d in errors] == ["CL018"], errors
    lines = path.read_text(encoding="utf-8").splitlines()
    assert line_fragment in lines[errors[0].span.line - 1]
    # and settling refuses it before it starts: exit 1, the diagnostic, no traceback, nothing written
    out = tmp_path / "out.json"
    assert main(["settle", str(path), "--ledger", str(RATE_CARD / "ledger"), "--format", "json", "-o", str(out)]) == 1
    captured = capsys.readouterr()
    assert "error[CL018]" in captured.out
    assert "Traceback" not in captured.err and not out.exists()


def test_settle_prints_the_limit_diagnostic(tmp_path, capsys):
    path = _variant(tmp_path, "pay 4_000 DKK per participant", "pay 1" + "0" * 48 + " DKK per participant")
    assert main(["settle", str(path), "--ledger", str(RATE_CARD / "ledger")]) == 1
    captured = capsys.readouterr()
    assert f"{path}:48:7: error[CL018]: the number 10000000000000000000… has 49 digits before the decimal point" \
        in captured.out
    assert "no settlement was produced" in captured.err


@pytest.mark.parametrize("old, new", [
    ("pay 4_000 DKK per participant", "pay 1_000_000_000_000 DKK per participant"),
    ("point m6 = start + 6 months", f"point m6 = start + {limits.MAX_MONTHS} months"),
    ("cap Kommunen 40_000 DKK", "cap Kommunen 40_000.0000000001 DKK"),
    ("intervention 2025-01-01", "intervention 1900-03-01"),
])
def test_at_a_limit_is_accepted(tmp_path, old, new):
    assert _errors(_variant(tmp_path, old, new)) == []


def test_yaml_numbers_beyond_the_limits_are_refused_without_a_crash(tmp_path):
    text = (RATE_CARD / "rate-card.yaml").read_text(encoding="utf-8")
    assert "places: 2" in text and "amount: 40_000 DKK" in text
    path = tmp_path / "v.yaml"
    path.write_text(text.replace("places: 2", f"places: {BIG}").replace("amount: 40_000 DKK", f"amount: {BIG} DKK"),
                    encoding="utf-8")
    from contractlang import load
    with pytest.raises(ParseError) as exc:
        load(path)
    messages = [d.message for d in exc.value.diagnostics]
    assert any("$.roundings[0].places: the number 9999" in msg and "5,000 digits" in msg for msg in messages), messages
    assert any("$.caps[0].amount" in msg and "5,000 digits" in msg for msg in messages), messages


def test_limit_code_is_in_the_catalogue_and_documented():
    assert CODES["CL018"] == "number or date beyond what contractlang can settle and report exactly"
    assert "CL018" in (ROOT / "docs" / "threat-model.md").read_text(encoding="utf-8")


def test_a_file_full_of_long_numbers_is_refused_with_the_first_errors():
    """(The time it takes, which must grow linearly with the file: bench/linear_time.py.)"""
    line = "grant X 1234567890123456 DKK\n"
    text = 'contract x "X"\n' + line * (limits.MAX_BYTES // len(line) - 1)
    with pytest.raises(ParseError) as exc:
        parse_text(text, "long.contract")
    found = [d for d in exc.value.diagnostics if d.code == "CL018"]
    assert len(found) == limits.MAX_ERRORS and found[-1].span.line == limits.MAX_ERRORS + 1


# ---- class 7: numbers --------------------------------------------------------------------------

def test_half_an_ore_is_not_a_danish_thousands_separator(tmp_path):
    path = _variant(tmp_path, "pay 4_000 DKK per participant", "pay 0.005 DKK per participant")
    assert _errors(path) == []
    contract = parse_text(path.read_text(encoding="utf-8"), str(path))
    assert contract.goals[0].rate.amount.value == Decimal("0.005")


@pytest.mark.parametrize("written, fixed, style", [
    ("1.500.000 DKK", "1_500_000", "Danish"), ("1.500 DKK", "1_500", "Danish"), ("12.000 kr", "12_000", "Danish"),
    ("8.600,50 DKK", "8_600.50", "Danish"), ("1.400.000,25 DKK", "1_400_000.25", "Danish"),  # the øre are kept
    ("1,400,000 DKK", "1_400_000", "English"), ("2,500,000.50 DKK", "2_500_000.50", "English")])
def test_thousands_separators_are_caught_and_the_hint_keeps_every_digit(written, fixed, style):
    with pytest.raises(ParseError) as exc:
        parse_text(f'contract x "X"\nparty K "K" recipient\ngrant K {written}\n', "d.contract")
    d = next(d for d in exc.value.diagnostics if d.code == "CL003" and "thousands" in d.message)
    assert (d.span.line, d.span.column) == (3, 9) and f"write '{fixed}'" in d.hint
    assert f"{style} format" in d.message
    numbers = [d for d in exc.value.diagnostics if d.code == "CL003" and "kr." not in d.message]
    assert len(numbers) == 1  # one number, one diagnostic (not also a decimal comma)


def test_a_date_beyond_the_calendar_is_an_eval_error_not_a_crash():
    assert add_months(dt.date(9999, 1, 31), 11) == dt.date(9999, 12, 31)
    with pytest.raises(EvalError, match="falls outside the calendar"):
        add_months(dt.date(9999, 1, 31), 12)
    with pytest.raises(EvalError, match="falls outside the calendar"):
        add_months(dt.date(1, 1, 1), -1)
