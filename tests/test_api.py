"""The package's facade (`contractlang.load, parse, check, settle, explain`), as a Python caller uses it."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import contractlang
from contractlang.errors import CheckError, ContractError

from .ledgers import LedgerBuilder

ROOT = Path(__file__).resolve().parents[1]
AARHUS = ROOT / "contracts" / "aarhus-personlige-budgetter"


def _run(code: str) -> str:
    """Run `code` in a fresh interpreter (imports in the order written there); its stdout."""
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.parametrize("imports", [
    "import contractlang",
    "import contractlang.explain\nimport contractlang",
    "from contractlang.explain import build_document\nimport contractlang",
    "import contractlang\nimport contractlang.evaluate, contractlang.explain, contractlang.render",
], ids=["package", "submodule-first", "from-submodule", "submodules-after"])
def test_explain_is_the_function_after_settle_however_modules_are_imported(imports):
    """`settle` imports the module `contractlang.explain`; the package's `explain` must stay the function."""
    out = _run(f"""
        {imports}
        doc = contractlang.settle(contractlang.load({str(AARHUS / 'aarhus.contract')!r}),
                                  {str(AARHUS / 'ledger')!r})
        print(contractlang.explain(doc, doc["lines"][0]["id"])[:200])
    """.replace("\n        ", "\n"))
    assert out.strip()


def test_every_facade_name_is_its_function_after_every_module_is_imported():
    out = _run("""
        import importlib, pkgutil, types
        import contractlang
        for info in pkgutil.walk_packages(contractlang.__path__, "contractlang."):
            importlib.import_module(info.name)
        for name in contractlang.__all__[1:]:
            assert isinstance(getattr(contractlang, name), types.FunctionType), name
        print("ok")
    """)
    assert out.strip() == "ok"


CONTRACT = '''contract t "T"
currency DKK
party K "Municipality" payer
programme { intervention 2024-01-01 to 2024-12-31 }
point end = end
measure score person integer 0 to 10 at end
goal g "G" {
  payer K
  subjects persons
  points end
  outcome OUTCOME
  pay 100 DKK per success
}
'''


def _ledger(tmp_path) -> Path:
    b = LedgerBuilder()
    b.household("H1", "2024-02-01", end="2024-10-01", reason="completed").person("P1", "H1")
    b.measure("P1", "score", "end", "7")
    return b.write(tmp_path / "ledger")


def test_settle_runs_the_checker_and_lists_its_errors(tmp_path):
    contract = contractlang.parse(CONTRACT.replace("OUTCOME", "score >= 5 and pased"), "t.contract")
    with pytest.raises(CheckError) as exc:
        contractlang.settle(contract, _ledger(tmp_path))
    assert isinstance(exc.value, ContractError)
    assert [d.code for d in exc.value.diagnostics] == ["CL010"]
    text = str(exc.value)
    assert "not settled" in text and "t.contract:11:" in text and "'pased' is not defined" in text


def test_settle_can_be_told_not_to_check(tmp_path):
    contract = contractlang.parse(CONTRACT.replace("OUTCOME", "score >= 5"), "t.contract")
    doc = contractlang.settle(contract, _ledger(tmp_path), check=False)
    assert doc["totals"]["pool"] == "100.00"


def test_warnings_do_not_stop_settle(tmp_path):
    text = CONTRACT.replace("OUTCOME", "score >= 5").replace("point end = end",
                                                            'point end = end\nfigure f = 5 assumed "a guess"')
    contract = contractlang.parse(text, "t.contract")
    assert {d.severity for d in contractlang.check(contract)} == {"note"}
    assert contractlang.settle(contract, _ledger(tmp_path))["totals"]["pool"] == "100.00"
