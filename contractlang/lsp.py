"""A language server for contract files (`contractlang lsp`, over standard input and output), with pygls.

It answers what an editor asks while a contract is written:

- **diagnostics**: the checker's errors, warnings and notes of the open file, each at its line and
  column (to its end where the finder knows it), published when the file is opened, changed or saved;
- **completion**: the language's keywords, and the names the contract declares (parties, goals,
  measures, points, tables, roundings, figures, metrics), each with what it is;
- **hover**: for a declared name, what it is, its title and its clause (`§ …`); for a keyword, its
  line in the language reference.

The checker runs on the text as it is in the editor; a text that does not parse gives the parser's
located errors, and completion then offers what the last text that parsed declared.
"""

from __future__ import annotations

import re

from lsprotocol import types
from pygls.lsp.server import LanguageServer

from . import __version__
from . import model as m
from .errors import ContractError, Diagnostic
from .keywords import DANISH, language_of, words
from .lexer import keywords

_SEVERITY = {"error": types.DiagnosticSeverity.Error, "warning": types.DiagnosticSeverity.Warning,
             "note": types.DiagnosticSeverity.Information}


def diagnostics_of(text: str, path: str) -> tuple[list[Diagnostic], m.Contract | None]:
    """The checker's findings on a text (the parser's, when it does not parse), and the contract if it parsed."""
    from .check import check
    from .parse import parse_text

    try:
        contract = parse_text(text, path)
    except ContractError as exc:
        return list(exc.diagnostics), None
    return check(contract), contract


def to_lsp(d: Diagnostic) -> types.Diagnostic:
    """A diagnostic as the protocol has it (0-based lines and characters; the end where known)."""
    line, col = (d.span.line - 1, d.span.column - 1) if d.span else (0, 0)
    end_line = d.end[0] - 1 if d.end else line
    end_col = d.span.end_column - 1 if d.end and d.span.end_column else col + 1
    message = d.said
    if d.acknowledged is not None:
        message += f"\nAcknowledged: {d.acknowledged}"
    elif d.hint:
        message += f"\nHint: {d.hint}"
    severity = types.DiagnosticSeverity.Information if d.acknowledged is not None else _SEVERITY[d.severity]
    return types.Diagnostic(range=types.Range(start=types.Position(line=line, character=col),
                                              end=types.Position(line=end_line, character=max(end_col, 0))),
                            message=message, severity=severity, code=d.code, source="contractlang")


def declared(contract: m.Contract) -> dict[str, tuple[str, str | None, str | None]]:
    """Each name the contract declares: (what it is, its title, its clause)."""
    out: dict[str, tuple[str, str | None, str | None]] = {}
    for kind, items, title in (("party", contract.parties, "name"), ("goal", contract.goals, "title"),
                               ("measure", contract.measures, None), ("point", contract.points, None),
                               ("table", contract.tables, "title"), ("rounding", contract.roundings, None),
                               ("flag", contract.flags, "title"), ("metric", contract.metrics, "title"),
                               ("figure", contract.figures, "title")):
        for x in items:
            out[x.id] = (kind, getattr(x, title) if title else None, getattr(x, "clause", None))
    return out


class ContractServer(LanguageServer):
    """The server, with the last contract of each document that parsed (for completion and hover)."""

    def __init__(self):
        super().__init__("contractlang", __version__)
        self.parsed: dict[str, m.Contract] = {}

    def refresh(self, uri: str) -> None:
        doc = self.workspace.get_text_document(uri)
        found, contract = diagnostics_of(doc.source, doc.path or uri)
        if contract is not None:
            self.parsed[uri] = contract
        self.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=uri, diagnostics=[to_lsp(d) for d in found]))


server = ContractServer()


@server.feature(types.TEXT_DOCUMENT_DID_OPEN)
def _opened(ls: ContractServer, params: types.DidOpenTextDocumentParams) -> None:
    ls.refresh(params.text_document.uri)


@server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
def _changed(ls: ContractServer, params: types.DidChangeTextDocumentParams) -> None:
    ls.refresh(params.text_document.uri)


@server.feature(types.TEXT_DOCUMENT_DID_SAVE)
def _saved(ls: ContractServer, params: types.DidSaveTextDocumentParams) -> None:
    ls.refresh(params.text_document.uri)


def _language(ls: ContractServer, uri: str) -> str:
    """The language of a document's keywords (English where its declaration names none we know)."""
    try:
        return language_of(ls.workspace.get_text_document(uri).source)[0]
    except ContractError:
        return "en"


@server.feature(types.TEXT_DOCUMENT_COMPLETION)
def _complete(ls: ContractServer, params: types.CompletionParams) -> types.CompletionList:
    language = _language(ls, params.text_document.uri)
    items = [types.CompletionItem(label=word, kind=types.CompletionItemKind.Keyword) for word in words(language)]
    contract = ls.parsed.get(params.text_document.uri)
    if contract is not None:
        items += [types.CompletionItem(label=name, kind=types.CompletionItemKind.Variable,
                                       detail=kind + (f" — {title}" if title else ""))
                  for name, (kind, title, _) in sorted(declared(contract).items())]
    return types.CompletionList(is_incomplete=False, items=items)


_WORD_BEFORE, _WORD_AFTER = re.compile(r"\w*$"), re.compile(r"^\w*")


@server.feature(types.TEXT_DOCUMENT_HOVER)
def _hover(ls: ContractServer, params: types.HoverParams) -> types.Hover | None:
    doc = ls.workspace.get_text_document(params.text_document.uri)
    word = doc.word_at_position(params.position, _WORD_BEFORE, _WORD_AFTER)  # with æ, ø and å (`mål`)
    contract = ls.parsed.get(params.text_document.uri)
    names = declared(contract) if contract is not None else {}
    if word in names:
        kind, title, clause = names[word]
        text = f"**{kind}** `{word}`" + (f" — {title}" if title else "") + (f"\n\n§ {clause}" if clause else "")
    elif word in keywords():
        danish = _language(ls, params.text_document.uri) == "da"
        english = " or ".join(f"`{k}`" for k, v in DANISH.items() if danish and v == word and k != word)
        text = (f"keyword `{word}`" + (f" ({english} in English)" if english else "")
                + " — see the language reference (docs/language.md)")
    else:
        return None
    return types.Hover(contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=text))


def main() -> int:
    server.start_io()
    return 0


__all__ = ["ContractServer", "declared", "diagnostics_of", "main", "server", "to_lsp"]
