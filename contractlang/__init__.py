"""contractlang: a language and rules engine for outcome contracts.

The pipeline is parse → model → check → evaluate → explain → render. The
facade functions below are the whole public API most callers need.

Three modules have the name of a facade function: `check`, `parse` and
`explain`. Importing a submodule binds its name on the package, but only the
first time it is loaded; so all three are loaded here, before the functions are
defined, and no later import (`settle` imports `contractlang.explain`, a caller
may `import contractlang.check`) can put a module where a function was.
"""

from __future__ import annotations

__version__ = "0.2.0"

from pathlib import Path as _Path

from . import check as _check_module  # noqa: E402
from . import evaluate as _evaluate_module  # noqa: E402
from . import explain as _explain_module  # noqa: E402,F401  (loaded before the function `explain` below)
from . import ledger as _ledger_module  # noqa: E402
from . import parse as _parse_module  # noqa: E402


def load(path):
    """Read a contract file (DSL `.contract` or YAML `.yaml`/`.yml`) into a model."""
    p = _Path(path)
    if p.suffix in (".yaml", ".yml"):
        from .yamlform import load_yaml

        try:
            data = p.read_bytes()
        except OSError as exc:
            from .errors import ParseError, error
            raise ParseError([error("CL002", f"cannot read {p}: {exc.strerror}")]) from None
        return load_yaml(_parse_module.decode(data, str(p)), str(p))
    return _parse_module.parse_file(p)


def parse(text, path="<contract>"):
    """Parse contract DSL text into a model."""
    return _parse_module.parse_text(text, path)


def check(contract):
    """All diagnostics (errors, warnings, notes) for a contract model."""
    return _check_module.check(contract)


def settle(contract, ledger_dir, as_of=None, trace=True, check=True):
    """Load a ledger directory and settle the contract against it; return the settlement document.

    The contract is checked first, as `contractlang settle` does: if the checker finds errors,
    `CheckError` is raised, listing them located (warnings and notes do not stop a settlement).
    Pass `check=False` only for a contract already checked. The columnar engine settles (with every line's
    audit trail when `trace`); a contract it cannot evaluate exactly is settled by the interpreter, to the
    same document.
    """
    if check:
        errors = [d for d in _check_module.check(contract) if d.severity == "error"]
        if errors:
            from .errors import CheckError

            sources = {contract.path: contract.source} if contract.path and contract.source else {}
            raise CheckError(errors, sources)
    from .engine import Unsupported, settle as settle_columns

    ledger = _ledger_module.load_ledger(ledger_dir, contract)
    try:
        return settle_columns(contract, ledger, as_of, trails=trace).document()
    except Unsupported:
        return _evaluate_module.settle(contract, ledger, as_of, trace)


def explain(document, line_id, lang="en"):
    """The audit trail of one payment line as text."""
    from .render import render_line

    return render_line(document, line_id, lang)


__all__ = ["__version__", "load", "parse", "check", "settle", "explain"]
