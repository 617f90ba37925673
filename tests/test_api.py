"""The package's facade (`contractlang.load, parse, check, settle, explain`), as a Python caller uses it."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import contractlang

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
