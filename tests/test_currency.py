"""Any ISO 4217 currency: amounts are written in the contract's currency, a mix or an unknown code is a
located error, and reports format the amounts for the currency and the language."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from contractlang.check import check
from contractlang.cli import main
from contractlang.errors import render_text
from contractlang.parse import parse_text
from contractlang.printer import format_contract

TUTORIAL = (Path(__file__).resolve().parents[1] / "docs" / "tutorial.md").read_text(encoding="utf-8")
CONTRACT = re.search(r"```contractlang\n(.*?)```", TUTORIAL, re.S).group(1)
GBP = CONTRACT.replace("currency DKK", "currency GBP").replace(" DKK", " GBP")


def _errors(text: str) -> list:
    return [d for d in check(parse_text(text, "x.contract")) if d.severity == "error"]


def test_a_contract_in_pounds_checks_settles_and_reports_in_pounds(tmp_path, capsys):
    assert "DKK" not in GBP and _errors(GBP) == []
    assert "pay 10_000 GBP per participant" in format_contract(parse_text(GBP))  # written back in its currency
    (tmp_path / "first.contract").write_text(GBP, encoding="utf-8")
    (tmp_path / "ledger").mkdir()
    for name, text in re.findall(r"\*\*`ledger/([a-z]+\.csv)`\*\*\n\n```text\n(.*?)```", TUTORIAL, re.S):
        (tmp_path / "ledger" / name).write_text(text, encoding="utf-8")
    args = ["settle", str(tmp_path / "first.contract"), "--ledger", str(tmp_path / "ledger")]
    assert main(args + ["--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["contract"]["currency"] == "GBP" and doc["totals"]["pool"] == "15000.00"
    assert main(args + ["--format", "md", "--lang", "en"]) == 0
    report = capsys.readouterr().out
    assert "£15,000.00" in report and "DKK" not in report and "kr." not in report
    assert main(args + ["--format", "md", "--lang", "da"]) == 0
    assert "15.000,00\u00a0£" in capsys.readouterr().out


def test_an_amount_in_another_currency_is_an_error_where_it_is_written():
    text = GBP.replace("cap jobs 15_000 GBP", "cap jobs 15_000 DKK")
    (d,) = [d for d in _errors(text) if d.code == "CL012"]
    line = next(n for n, x in enumerate(text.split("\n"), 1) if x.startswith("cap jobs"))
    assert (d.span.line, d.span.column) == (line, 10), render_text([d])
    assert "15,000 DKK" in d.message and "its currency, GBP" in d.message and d.hint.startswith("write 15,000 GBP")


def test_an_unknown_currency_is_an_error_with_the_code_meant():
    (d,) = _errors(GBP.replace("currency GBP", "currency GPB").replace(" GBP", " GPB"))[:1]
    assert d.code == "CL013" and "'GPB' is not a currency code of ISO 4217" in d.message
    assert d.hint == "did you mean 'GBP'?" and d.span.line == 2
    found = _errors(CONTRACT.replace("pay 10_000 DKK", "pay 10_000 DKX"))
    assert any(d.code == "CL012" and "'DKX' is not a currency code" in d.message for d in found)


@pytest.mark.parametrize("code", ["EUR", "SEK", "USD", "NOK"])
def test_every_iso_currency_is_written_the_same_way(code):
    text = GBP.replace("GBP", code)
    assert _errors(text) == [] and parse_text(text).goals[0].rate.amount.unit == code


def test_a_name_of_three_capitals_is_still_a_name():
    # `DSI`, `LBF` and `DSK` are parties; after a number, three capitals are a currency.
    text = CONTRACT.replace("Fund", "DSI")
    c = parse_text(text)
    assert c.parties[0].id == "DSI" and _errors(text) == []


def test_the_yaml_form_and_danish_keywords_keep_the_currency():
    from contractlang.yamlform import dump_yaml, load_yaml

    contract = parse_text(GBP)
    assert load_yaml(dump_yaml(contract)) == contract
    assert parse_text(format_contract(contract, "da")) == contract
