"""The state of one columnar settlement: inputs, and what the stages hand on."""

from __future__ import annotations

import datetime as dt

import polars as pl

from .. import model as m
from .frames import Ledger


def source_text(contract: m.Contract, node) -> str:
    """The source text of an expression (joined into one line), or '' when it has no span."""
    span = getattr(node, "span", None)
    return span.cut(contract.source.splitlines()) if span is not None and contract.source else ""


class Run:
    """One settlement in progress: the contract, the ledger's frames and the results of each stage."""

    def __init__(self, contract: m.Contract, ledger, as_of: dt.date | None, trails: bool = False,
                 only: tuple[str, str] | None = None):
        prog = contract.programme
        self.contract = contract
        self.ledger = ledger
        self.as_of = as_of or (prog.data_collection_end if prog else None) or (
            prog.intervention_end if prog else dt.date.today())
        self.L = Ledger(contract, ledger, self.as_of)
        self.goal_index = {g.id: i for i, g in enumerate(contract.goals)}
        self.roundings = {r.id: r for r in contract.roundings}
        self.tables = {t.id: t for t in contract.tables}
        self.line_rounding = self.roundings.get("line") or m.Rounding(id="line", places=2, mode="half_up")
        self.exclusion_frames: list[pl.DataFrame] = []   # exclusions.KEY_SCHEMA: order keys and each record's JSON
        self.flags: list[dict] = []
        self.used: list[pl.Series] = []                   # lines of measurements.csv read
        self.imputed: dict[str, int] = {}
        self.line_frames: list[pl.DataFrame] = []
        # A settlement with audit trails (`trails`): each stage records its steps as columns, for every
        # line, or (`only`: a goal and a subject) for the lines of one subject in one goal (`explain`).
        # Figures and metrics have their trails either way.
        self.trails = trails
        self.only = only
        # Whether the document accounts for every ledger row: not in a run for one subject's trail, whose
        # document is read for that subject's lines and exclusions alone (`explain`).
        self.accounts = only is None
        self.results = None  # the figures and metrics (`results.Results`), whose values a trail shows
        self._texts: dict[int, str] = {}

    def traces(self, goal: m.Goal) -> bool:
        """Whether the lines of `goal` have trails recorded (some or all of them)."""
        return self.trails and (self.only is None or self.only[0] == goal.id)

    def text(self, node) -> str:
        if id(node) not in self._texts:
            self._texts[id(node)] = source_text(self.contract, node)
        return self._texts[id(node)]

    def raise_flag(self, fid, subject, clause, details, text, title=None, trace=None, note_code=None, facts=None):
        note = {"kind": "note", "text": text}
        if note_code is not None:
            note.update(code=note_code, facts=facts or {})
        self.flags.append({"id": fid, "title": title, "clause": clause, "subject": subject, "details": details,
                           "trace": trace if trace is not None else [note]})
