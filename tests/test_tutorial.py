"""docs/tutorial.md is followed as a new user would: its contract and ledger are written out from the
page, and every command it shows gives what the page says it gives."""

from __future__ import annotations

import json
import re
from pathlib import Path

from contractlang.cli import main

PAGE = (Path(__file__).resolve().parents[1] / "docs" / "tutorial.md").read_text(encoding="utf-8")


def _files(tmp_path: Path) -> Path:
    contract = re.search(r"```contractlang\n(.*?)```", PAGE, re.S).group(1)
    (tmp_path / "first.contract").write_text(contract, encoding="utf-8")
    (tmp_path / "ledger").mkdir()
    found = re.findall(r"\*\*`ledger/([a-z]+\.csv)`\*\*\n\n```text\n(.*?)```", PAGE, re.S)
    assert [name for name, _ in found] == ["households.csv", "persons.csv", "measurements.csv"]
    for name, text in found:
        (tmp_path / "ledger" / name).write_text(text, encoding="utf-8")
    return tmp_path


def _run(capsys, *argv) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_the_tutorial_does_what_it_says(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(_files(tmp_path))
    code, _, err = _run(capsys, "check", "first.contract")
    assert code == 0 and "1 file(s) checked: 0 error(s), 0 warning(s)" in err
    assert "1 file(s) checked: 0 error(s), 0 warning(s)" in PAGE

    code, out, _ = _run(capsys, "settle", "first.contract", "--ledger", "ledger", "--format", "json")
    doc = json.loads(out)
    assert code == 0 and doc["totals"]["pool"] == "15000.00" and doc["totals"]["by_recipient"] == {"Fund": "15000.00"}
    assert [(x["subject"], x["gross"], x["amount"]) for x in doc["lines"]] == [
        ("P1", "10000.00", "10000.00"), ("P2", "0.00", "0.00"), ("P3", "10000.00", "5000.00")]
    assert "**15,000.00 DKK**" in PAGE and "**5,000.00** through" in PAGE

    code, out, _ = _run(capsys, "explain", "first.contract", "--ledger", "ledger", "jobs/P3/m12")
    out = out.replace("\xa0", " ")  # amounts keep their currency on the line with a no-break space
    assert code == 0 and "measurements.csv line 4: in_work of P3 at m12 = true" in out
    assert "DKK 10,000.00 is already counted, so only DKK 5,000.00 of DKK 10,000.00 fits under the cap" in out
    assert "(`measurements.csv\nline 4: in_work of P3 at m12 = true`)" in PAGE

    code, out, _ = _run(capsys, "explain", "first.contract", "--ledger", "ledger", "jobs/P4/m12")
    assert code == 0 and "the value is missing and the contract does not replace it" in out
    assert "*The value is missing and the contract does not replace it.*" in PAGE

    text = Path("first.contract").read_text(encoding="utf-8")
    assert "missing none" in text
    Path("mean.contract").write_text(text.replace("missing none", "missing mean"), encoding="utf-8")
    code, out, _ = _run(capsys, "settle", "mean.contract", "--ledger", "ledger", "--format", "json")
    doc = json.loads(out)
    p4 = next(x for x in doc["lines"] if x["subject"] == "P4")
    assert p4["imputed"] and p4["gross"] == "6666.67" and p4["amount"] == "0.00" and doc["totals"]["pool"] == "15000.00"
    assert "6,666.67 DKK" in PAGE
