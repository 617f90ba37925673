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


def load(path, _newer=()):
    """Read a contract file (DSL `.contract` or YAML `.yaml`/`.yml`) into a model; a contract that amends
    another (`amends "FILE" effective DATE`) is read with the versions before it (`Contract.amended`)."""
    p = _Path(path)
    if p.suffix in (".yaml", ".yml"):
        from .yamlform import load_yaml

        try:
            data = p.read_bytes()
        except OSError as exc:
            from .errors import ParseError, error
            raise ParseError([error("CL002", f"cannot read {p}: {exc.strerror}")]) from None
        contract = load_yaml(_parse_module.decode(data, str(p)), str(p))
    else:
        contract = _parse_module.parse_file(p)
    return _with_amended(contract, p, _newer) if contract.amends is not None else contract


def _with_amended(contract, p, newer):
    """`contract` with the contract it amends read (a path relative to `p`'s directory); `newer`: the files of
    the versions after it, so that a chain that comes back to one of them is refused, as is one too long."""
    import attrs

    from .errors import ContractError, ParseError, error
    from .limits import MAX_VERSIONS

    a = contract.amends
    target = p.parent / a.file
    newer = (*newer, p.resolve())
    if target.resolve() in newer:
        raise ParseError([error("CL002", f"the contract amends {a.file}, which is itself or a later version of it",
                                a.span)])
    if len(newer) >= MAX_VERSIONS:
        raise ParseError([error("CL002", f"the chain of amended contracts is longer than {MAX_VERSIONS} versions",
                                a.span)])
    if not target.is_file():
        raise ParseError([error("CL002", f"the contract amends {a.file}, which is not a file ({target})", a.span)])
    try:
        amended = load(target, newer)
    except ContractError as exc:
        raise ParseError([error("CL002", f"the contract it amends, {a.file}, cannot be read", a.span),
                          *exc.diagnostics]) from None
    return attrs.evolve(contract, amended=amended)


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
