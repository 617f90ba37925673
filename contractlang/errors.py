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
    "CL003": "number written in Danish (or English) format",
    "CL004": "declared twice",
    "CL010": "undefined name",
    "CL011": "duplicate name",
    "CL012": "unit mismatch",
    "CL013": "impossible range or value",
    "CL014": "shares do not sum to 100 %",
    "CL015": "goal without a payer or a price",
    "CL016": "table shape",
    "CL017": "expression cannot be evaluated as written",
    "CL018": "number or date beyond what contractlang can settle and report exactly",
    "CL019": "division by zero",
    "CL020": "schedule does not add up to the grant",
    "CL021": "stated total differs from the sum of its items",
    "CL022": "tranche shares differ from grant shares",
    "CL023": "return cap against its interest formula",
    "CL024": "assumption",
    "CL025": "acknowledgement that matches no warning",
    "CL026": "amendment that changes what a version cannot, or amends a contract with errors",
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
    #: The text of the line at `span`, when the finder has it at hand (a ledger row): the renderer
    #: then need not read the file again.
    source_line: str | None = attrs.field(default=None, eq=False, repr=False)
    #: What a warning is about (a party's or table's id), which an `acknowledge … on NAME` names.
    subject: str | None = attrs.field(default=None, eq=False, repr=False)
    #: The reason the contract gives for accepting this warning (`acknowledge`), or None.
    acknowledged: str | None = None

    @property
    def end(self) -> tuple[int, int] | None:
        """The line and column the finding ends at, where the finder knows it."""
        if self.span is None or not self.span.end_line:
            return None
        return self.span.end_line, self.span.end_column or self.span.column

    @property
    def said(self) -> str:
        """The message with its clause, as a one-line report (an annotation, a SARIF result) gives it."""
        return self.message + (f" (§ {self.clause})" if self.clause else "")

    def to_dict(self) -> dict:
        d = {"severity": self.severity, "code": self.code, "message": self.message}
        if self.span:
            d.update(file=self.span.file, line=self.span.line, column=self.span.column)
            if self.end:
                d.update(end_line=self.end[0], end_column=self.end[1])
        if self.clause:
            d["clause"] = self.clause
        if self.hint:
            d["hint"] = self.hint
        if self.acknowledged is not None:
            d["acknowledged"] = self.acknowledged
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


class CheckError(ContractError):
    """The checker found errors in a contract, so it was not settled; the message lists them, located."""

    def __init__(self, diagnostics: Iterable[Diagnostic], sources: dict[str, str] | None = None):
        super().__init__(diagnostics)
        n = len(self.diagnostics)
        self.args = (f"the contract has {n} error{'s' if n != 1 else ''} and was not settled:\n"
                     + render_text(self.diagnostics, sources),)


def error(code: str, message: str, span=None, clause=None, hint=None, source_line=None) -> Diagnostic:
    return Diagnostic(severity=ERROR, code=code, message=message, span=span, clause=clause, hint=hint,
                      source_line=source_line)


def warning(code: str, message: str, span=None, clause=None, hint=None, subject=None) -> Diagnostic:
    return Diagnostic(severity=WARNING, code=code, message=message, span=span, clause=clause, hint=hint,
                      subject=subject)


def note(code: str, message: str, span=None, clause=None, hint=None) -> Diagnostic:
    return Diagnostic(severity=NOTE, code=code, message=message, span=span, clause=clause, hint=hint)


#: `render_text` shows at most this many diagnostics of one code, then counts the rest.
MAX_SHOWN_PER_CODE = 50
#: A source file larger than this is not read again to show the lines of its diagnostics.
MAX_SOURCE_BYTES = 64_000_000


def split_lines(text: str) -> list[str]:
    """The lines of a source text as positions count them: split at `\n` only (a `\r` before it is
    dropped). `str.splitlines` also splits at U+0085, U+2028, form feeds and more, and would make
    line numbers drift."""
    return [line[:-1] if line.endswith("\r") else line for line in text.split("\n")]


def render_text(diags: Iterable[Diagnostic], sources: dict[str, str] | None = None,
                max_per_code: int | None = MAX_SHOWN_PER_CODE) -> str:
    """Render diagnostics as `file:line:col: severity[CODE]: message`, the source line and a caret.

    At most `max_per_code` diagnostics of each code are shown (None: all); a last line counts the
    rest per code. Each source text is split into lines once, so the cost is linear in the input.
    """
    out = []
    lines_of: dict[str, list[str] | None] = {}
    shown: dict[str, int] = {}
    kinds: dict[str, str] = {}
    for d in diags:
        shown[d.code] = shown.get(d.code, 0) + 1
        kinds.setdefault(d.code, d.severity)
        if max_per_code is not None and shown[d.code] > max_per_code:
            continue
        where = f"{d.span}: " if d.span else ""
        marked = " (acknowledged)" if d.acknowledged is not None else ""
        out.append(f"{where}{d.severity}[{d.code}]{marked}: {d.message}")
        line = None
        if d.span:
            line = d.source_line
            if line is None:
                if d.span.file not in lines_of:
                    text = (sources or {}).get(d.span.file)
                    lines_of[d.span.file] = split_lines(text) if text is not None else None
                lines = lines_of[d.span.file]
                if lines is not None and 1 <= d.span.line <= len(lines):
                    line = lines[d.span.line - 1]
        if line is not None and len(line) <= 400:
            width = 1
            if d.span.end_line == d.span.line and d.span.end_column:
                width = max(1, d.span.end_column - d.span.column)
            out.append(f"    {line}")
            out.append("    " + " " * (d.span.column - 1) + "^" + "~" * (width - 1))
        if d.clause:
            out.append(f"    clause: § {d.clause}")
        if d.acknowledged is not None:
            out.append(f"    acknowledged: {d.acknowledged}")
        elif d.hint:
            out.append(f"    hint: {d.hint}")
    for code, count in shown.items():
        if max_per_code is not None and count > max_per_code:
            out.append(f"… and {count - max_per_code} more {code} {kinds[code]}s")
    return "\n".join(out)


def summary(diags: Iterable[Diagnostic], files: int | None = None) -> dict:
    """How many diagnostics of each severity (and files checked, when known); `warnings` counts those not
    acknowledged, `acknowledged` the warnings the contract accepts."""
    diags = list(diags)
    counts = {f"{s}s": sum(d.severity == s and d.acknowledged is None for d in diags) for s in (ERROR, WARNING, NOTE)}
    counts["acknowledged"] = sum(d.acknowledged is not None for d in diags)
    return {"files": files, **counts} if files is not None else counts


def render_json(diags: Iterable[Diagnostic], files: int | None = None, counted: Iterable[Diagnostic] | None = None) -> str:
    """`{"summary": {files, errors, warnings, notes}, "diagnostics": [...]}`: each with its file, line and
    column, and where the finder knows it the end (`end_line`, `end_column`). `counted`: what the summary
    counts, when more than is shown (notes hidden by `--no-notes` are still counted)."""
    diags = list(diags)
    return json.dumps({"summary": summary(diags if counted is None else counted, files),
                       "diagnostics": [d.to_dict() for d in diags]}, ensure_ascii=False, indent=2)


def _property(value) -> str:
    """A value of a workflow command's property, escaped as GitHub reads it."""
    return (str(value).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
            .replace(":", "%3A").replace(",", "%2C"))


def render_github(diags: Iterable[Diagnostic]) -> str:
    """GitHub Actions workflow commands (`::error file=…,line=…,endLine=…::message`)."""
    out = []
    for d in diags:
        level = {"error": "error", "warning": "warning"}.get(d.severity, "notice")
        if d.acknowledged is not None:  # shown, not silenced; it does not fail the check
            level = "notice"
        props = []
        if d.span:
            props = [f"file={_property(d.span.file)}", f"line={d.span.line}", f"col={d.span.column}"]
            if d.end:
                props += [f"endLine={d.end[0]}", f"endColumn={d.end[1]}"]
        props.append(f"title={_property(d.code + (' (acknowledged)' if d.acknowledged is not None else ''))}")
        msg = d.said
        if d.acknowledged is not None:
            msg += f" Acknowledged: {d.acknowledged}"
        msg = msg.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
        out.append(f"::{level} {','.join(props)}::{msg}")
    return "\n".join(out)


def render_sarif(diags: Iterable[Diagnostic], version: str) -> str:
    """SARIF 2.1.0 (the static-analysis format code-scanning tools read): one run of the tool `contractlang`,
    a rule per code, a result per diagnostic with its region. An acknowledged warning is a `note` whose
    message ends with the reason."""
    diags = list(diags)
    codes = sorted({d.code for d in diags})
    results = []
    for d in diags:
        level = {"error": "error", "warning": "warning"}.get(d.severity, "note")
        text = d.said
        if d.acknowledged is not None:
            level, text = "note", f"{text} Acknowledged: {d.acknowledged}"
        result = {"ruleId": d.code, "level": level, "message": {"text": text}}
        if d.span:
            region = {"startLine": d.span.line, "startColumn": d.span.column}
            if d.end:
                region.update(endLine=d.end[0], endColumn=d.end[1])
            result["locations"] = [{"physicalLocation": {"artifactLocation": {"uri": d.span.file},
                                                         "region": region}}]
        results.append(result)
    run = {"tool": {"driver": {"name": "contractlang", "version": version,
                               "rules": [{"id": c, "shortDescription": {"text": CODES.get(c, c)}} for c in codes]}},
           "results": results}
    return json.dumps({"$schema": "https://json.schemastore.org/sarif-2.1.0.json", "version": "2.1.0",
                       "runs": [run]}, ensure_ascii=False, indent=2)
