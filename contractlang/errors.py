"""Diagnostics: one error root, stable codes, and one renderer for every message.

Every problem contractlang finds, in a contract file or in a ledger, is a
`Diagnostic`: a severity, a stable code (`CL012`), a message in words a lawyer
understands, where it is (`file:line:col`), the clause it concerns and a hint.
"""

from __future__ import annotations

import json
from typing import Iterable

import attrs

from .model import SourceSpan

ERROR = "error"
WARNING = "warning"
NOTE = "note"

#: Stable codes. Tests assert on them; never renumber, only add.
CODES = {
    "CL001": "syntax error",
    "CL002": "file cannot be read as a contract (size, encoding, nesting)",
    "CL003": "number written in Danish format",
    "CL004": "declared twice",
    "CL010": "undefined name",
    "CL011": "duplicate name",
    "CL012": "unit mismatch",
    "CL013": "impossible range or value",
    "CL014": "shares do not sum to 100 %",
    "CL015": "goal without a payer or a price",
    "CL016": "table shape",
    "CL017": "expression cannot be evaluated as written",
    "CL020": "schedule does not add up to the grant",
    "CL021": "stated total differs from the sum of its items",
    "CL022": "tranche shares differ from grant shares",
    "CL023": "return cap against its interest formula",
    "CL024": "assumption",
    "CL030": "YAML form invalid",
    "CL040": "ledger file missing or unreadable",
    "CL041": "ledger row malformed",
    "CL042": "ledger value not in the data dictionary",
    "CL043": "ledger duplicate",
    "CL044": "ledger reference unknown",
}


@attrs.frozen(kw_only=True)
class Diagnostic:
    """One finding: severity, code, message, location, clause and hint."""

    severity: str
    code: str
    message: str
    span: SourceSpan | None = None
    clause: str | None = None
    hint: str | None = None

    def to_dict(self) -> dict:
        d = {"severity": self.severity, "code": self.code, "message": self.message}
        if self.span:
            d.update(file=self.span.file, line=self.span.line, column=self.span.column)
        if self.clause:
            d["clause"] = self.clause
        if self.hint:
            d["hint"] = self.hint
        return d


class ContractError(Exception):
    """Raised when input cannot be used; carries every diagnostic found, not just the first."""

    def __init__(self, diagnostics: Iterable[Diagnostic]):
        self.diagnostics = tuple(diagnostics)
        super().__init__("\n".join(d.message for d in self.diagnostics))


class ParseError(ContractError):
    """The contract file is not valid contractlang (or YAML) text."""


class LedgerError(ContractError):
    """The measurement ledger does not match the contract's data dictionary."""


def error(code: str, message: str, span=None, clause=None, hint=None) -> Diagnostic:
    return Diagnostic(severity=ERROR, code=code, message=message, span=span, clause=clause, hint=hint)


def warning(code: str, message: str, span=None, clause=None, hint=None) -> Diagnostic:
    return Diagnostic(severity=WARNING, code=code, message=message, span=span, clause=clause, hint=hint)


def note(code: str, message: str, span=None, clause=None, hint=None) -> Diagnostic:
    return Diagnostic(severity=NOTE, code=code, message=message, span=span, clause=clause, hint=hint)


def _source_line(sources: dict[str, str], span: SourceSpan) -> str | None:
    text = sources.get(span.file)
    if text is None:
        return None
    lines = text.splitlines()
    if 1 <= span.line <= len(lines):
        return lines[span.line - 1]
    return None


def render_text(diags: Iterable[Diagnostic], sources: dict[str, str] | None = None) -> str:
    """Render diagnostics as `file:line:col: severity[CODE]: message`, the source line and a caret."""
    out = []
    for d in diags:
        where = f"{d.span}: " if d.span else ""
        out.append(f"{where}{d.severity}[{d.code}]: {d.message}")
        line = _source_line(sources or {}, d.span) if d.span else None
        if line is not None and len(line) <= 400:
            width = 1
            if d.span.end_line == d.span.line and d.span.end_column:
                width = max(1, d.span.end_column - d.span.column)
            out.append(f"    {line}")
            out.append("    " + " " * (d.span.column - 1) + "^" + "~" * (width - 1))
        if d.clause:
            out.append(f"    clause: § {d.clause}")
        if d.hint:
            out.append(f"    hint: {d.hint}")
    return "\n".join(out)


def render_json(diags: Iterable[Diagnostic]) -> str:
    return json.dumps([d.to_dict() for d in diags], ensure_ascii=False, indent=2)


def render_github(diags: Iterable[Diagnostic]) -> str:
    """GitHub Actions workflow commands (`::error file=…,line=…::message`)."""
    out = []
    for d in diags:
        level = {"error": "error", "warning": "warning"}.get(d.severity, "notice")
        loc = f" file={d.span.file},line={d.span.line},col={d.span.column}" if d.span else ""
        msg = d.message + (f" (§ {d.clause})" if d.clause else "")
        msg = msg.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
        out.append(f"::{level}{loc},title={d.code}::{msg}" if loc else f"::{level} title={d.code}::{msg}")
    return "\n".join(out)
