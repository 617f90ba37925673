"""`contractlang verify` reruns a settlement from what it records: every golden settlement is reproduced byte
for byte; a changed ledger or contract is named, with the first place the document differs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from contractlang.cli import main
from contractlang.document import MISSING, first_difference

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = sorted((ROOT / "contracts").rglob("settlement.json"))


@pytest.mark.parametrize("path", GOLDEN, ids=lambda p: p.parent.name)
def test_every_golden_settlement_is_reproduced_byte_for_byte(path, capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    assert main(["verify", str(path.relative_to(ROOT))]) == 0
    assert capsys.readouterr().out.startswith("identical: ")


@pytest.fixture()
def kolding(tmp_path, monkeypatch, capsys):
    """A settlement with trails of a copy of Kolding, settled from the copy's directory."""
    source = ROOT / "contracts" / "kolding-ny-start"
    shutil.copy(source / "kolding.contract", tmp_path / "kolding.contract")
    shutil.copytree(source / "ledger", tmp_path / "ledger")
    monkeypatch.chdir(tmp_path)
    assert main(["settle", "kolding.contract", "--ledger", "ledger", "--format", "json", "--trails",
                 "-o", "settlement.json"]) == 0
    capsys.readouterr()
    return tmp_path


def test_a_settlement_with_trails_is_rerun_with_them(kolding, capsys):
    doc = json.loads((kolding / "settlement.json").read_text(encoding="utf-8"))
    assert doc["inputs"]["ledger_directory"] == "ledger" and any(ln["trace"] for ln in doc["lines"])
    assert main(["verify", "settlement.json"]) == 0
    assert "with trails" in capsys.readouterr().out


def test_a_corrected_ledger_value_is_named_with_the_first_difference(kolding, capsys):
    measurements = kolding / "ledger" / "measurements.csv"
    rows = measurements.read_text(encoding="utf-8").split("\n")
    k = next(i for i, r in enumerate(rows) if r.startswith("P001,weeks_off_benefit,m12"))
    rows[k] = rows[k].rsplit(",", 1)[0] + ",26"
    measurements.write_text("\n".join(rows), encoding="utf-8")
    assert main(["verify", "settlement.json"]) == 1
    out = capsys.readouterr().out
    assert out.startswith("different: settlement.json") and "the ledger file measurements.csv has changed" in out
    assert "the contract" not in out and "first difference at inputs.ledger[2].sha256" in out


def test_a_changed_contract_is_named(kolding, capsys):
    path = kolding / "kolding.contract"
    path.write_text(path.read_text(encoding="utf-8").replace("pay weekly_benefit * investor_share per week",
                                                             "pay weekly_benefit * 50 % per week"), encoding="utf-8")
    assert main(["verify", "settlement.json"]) == 1
    out = capsys.readouterr().out
    assert "the contract kolding.contract has changed" in out and "first difference at goals[0].rate" in out


def test_verify_refuses_what_is_not_a_settlement(kolding, capsys):
    (kolding / "other.json").write_text('{"a": 1}', encoding="utf-8")
    assert main(["verify", "other.json"]) == 1
    assert "is not a settlement document" in capsys.readouterr().err
    assert main(["verify", "missing.json"]) == 2
    doc = json.loads((kolding / "settlement.json").read_text(encoding="utf-8"))
    del doc["inputs"]["ledger_directory"]
    (kolding / "old.json").write_text(json.dumps(doc), encoding="utf-8")
    assert main(["verify", "old.json"]) == 2
    assert "name it with --contract and --ledger" in capsys.readouterr().err
    assert main(["verify", "old.json", "--ledger", "ledger"]) == 1  # rerun: the new document records more
    assert 'first difference at inputs.ledger_directory: recorded (nothing), now "ledger"' in capsys.readouterr().out
    doc["inputs"]["ledger_directory"] = "ledger"
    (kolding / "layout.json").write_text(json.dumps(doc, indent=1), encoding="utf-8")  # the same values, laid out
    assert main(["verify", "layout.json"]) == 1
    assert "the same values, written differently" in capsys.readouterr().out


def test_the_first_difference_is_found_in_the_document_s_order():
    a = {"lines": [{"amount": "1.00", "id": "x"}, {"amount": "2.00"}], "totals": {"pool": "3.00"}}
    b = {"lines": [{"amount": "1.00", "id": "x"}, {"amount": "2.50"}], "totals": {"pool": "3.50"}}
    assert first_difference(a, b) == ("lines[1].amount", "2.00", "2.50")
    assert first_difference(a, a) is None
    assert first_difference({"lines": [1]}, {"lines": [1, 2]}) == ("lines[1]", MISSING, 2)


@pytest.mark.parametrize("text", ['[]', '{"inputs": 1, "as_of": "2025-01-01"}', '{"inputs": {}, "as_of": "2025-13-01"}',
                                  '{"inputs": {}, "as_of": 5}', '{"inputs": {"contract": 3}, "as_of": "2025-01-01",'
                                  ' "lines": {}}', 'not json',
                                  '{"inputs": {"contract": {"path": 7}, "ledger_directory": []}, "as_of": "2025-01-01"}'])
def test_verify_refuses_a_damaged_settlement_with_a_message(tmp_path, capsys, text):
    (tmp_path / "s.json").write_text(text, encoding="utf-8")
    assert main(["verify", str(tmp_path / "s.json")]) in (1, 2)
    err = capsys.readouterr().err
    assert err.startswith("contractlang: ") and "Traceback" not in err
