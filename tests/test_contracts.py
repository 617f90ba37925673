"""Every arrangement in contracts/: it checks clean, its ledger is what its generator makes, and its
settlement and reports are exactly the committed golden files.

A contract directory holds `<name>.contract`, `make_ledger.py` (with `generate(out_dir)`), `ledger/`,
and optionally `settlement.json` (the settlement without trails, `--no-trace`) and `report.en.md` /
`report.da.md` (the explained reports). Regenerate the golden files after a deliberate change with
`CONTRACTLANG_REGOLD=1 .venv/bin/python -m pytest tests/test_contracts.py` and read the diff.
"""

from __future__ import annotations

import filecmp
import importlib.util
import os
from pathlib import Path

import pytest

from contractlang import load
from contractlang.check import check
from contractlang.cli import main

ROOT = Path(__file__).resolve().parents[1]
REGOLD = os.environ.get("CONTRACTLANG_REGOLD") == "1"
DIRS = sorted(d for d in (ROOT / "contracts").rglob("*") if d.is_dir() and (d / "ledger").is_dir()
              and list(d.glob("*.contract")))
GOLDEN = [(d, name) for d in DIRS for name in ("settlement.json", "report.en.md", "report.da.md")
          if (d / name).exists() or (REGOLD and (d / "settlement.json").exists())]


def _id(d: Path) -> str:
    return d.relative_to(ROOT / "contracts").as_posix()


def _contract(d: Path) -> Path:
    return next(iter(sorted(d.glob("*.contract"))))


def test_every_arrangement_is_here():
    names = {_id(d) for d in DIRS}
    assert {"viborg", "rudersdal-aaben-og-rolig", "kolding-ny-start", "vaeksthuset-ny-start",
            "aarhus-personlige-budgetter", "examples/rate-card", "examples/istanbul-kodluyor",
            "examples/peterborough", "examples/innovation-fund", "examples/fair-chance-fund",
            "examples/dc-water"} <= names


@pytest.mark.parametrize("d", DIRS, ids=_id)
def test_contract_checks_without_errors(d):
    errors = [x for x in check(load(_contract(d))) if x.severity == "error"]
    assert errors == []


@pytest.mark.parametrize("d", DIRS, ids=_id)
def test_ledger_is_what_its_generator_makes(d, tmp_path):
    spec = importlib.util.spec_from_file_location(f"make_ledger_{d.name}", d / "make_ledger.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    mod.generate(tmp_path)
    made = sorted(p.name for p in tmp_path.iterdir())
    assert made == sorted(p.name for p in (d / "ledger").iterdir())
    for name in made:
        assert filecmp.cmp(tmp_path / name, d / "ledger" / name, shallow=False), f"{name} differs from its generator"


@pytest.mark.parametrize("d, name", GOLDEN, ids=[f"{_id(d)}/{n}" for d, n in GOLDEN])
def test_settlement_and_reports_match_the_golden_files(d, name, tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    out = tmp_path / name
    contract = _contract(d).relative_to(ROOT).as_posix()
    ledger = (d / "ledger").relative_to(ROOT).as_posix()
    if name == "settlement.json":
        args = ["settle", contract, "--ledger", ledger, "--format", "json", "--no-trace", "-o", str(out)]
    else:
        args = ["settle", contract, "--ledger", ledger, "--format", "md", "--lang", name.split(".")[1], "-o", str(out)]
    assert main(args) == 0
    if REGOLD:
        (d / name).write_bytes(out.read_bytes())
    assert out.read_text(encoding="utf-8") == (d / name).read_text(encoding="utf-8")
