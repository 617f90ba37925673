"""diff: what changed between two settlements, and why.

`diff(old, new)` compares two settlement documents (`json.loads` of `contractlang settle
--format json --trails`, docs/settlement-json.md) and returns a JSON-ready dict: which
inputs changed, which lines appeared, vanished or changed, and, for each of those lines,
the causes its audit trails show. It is pure: dicts in, a dict out, no I/O and no
rendering (the CLI and the reports are built on top of it). Money is written as decimal
strings with two places, computed with `decimal.Decimal`, never floats.

Output
------

``inputs``
    ``as_of`` and ``known_as_of``: ``{"old", "new", "changed"}``;
    ``contract``: ``{"old_path", "new_path", "old_sha256", "new_sha256", "changed"}``;
    ``ledger_directory``: ``{"old", "new"}``;
    ``ledger``: the ledger files whose sha256 (or row count) differs, by file name:
    ``[{"file", "old_sha256", "new_sha256", "old_rows", "new_rows"}]`` (``None`` on the side
    that has no such file); ``changed``: whether anything above changed.

``lines``
    One record per line that appeared, vanished or changed (its ``amount``, ``gross``,
    ``after_goal_cap`` or ``split`` differs, or it moved to another date, period or payer),
    in the order (date, goal as the contract declares it, subject, place in its document):

    ``id``, ``goal``, ``subject``, ``point``, ``date``, ``period``, ``payer`` (the new
    line's, or the old one's when it vanished); ``change``: ``"appeared"`` | ``"vanished"``
    | ``"changed"``; ``old``, ``new``: the amounts (``None`` where there is no line);
    ``delta``: new − old (an absent line counts as 0.00); ``gross`` and ``after_goal_cap``:
    ``{"old", "new", "delta"}``; ``split``: ``{"old", "new"}`` (maps recipient → amount,
    ``None`` where absent); ``split_delta``: recipient → new − old; ``outcome`` and
    ``imputed``: ``{"old", "new"}``; ``previously``: the old ``date``/``period``/``payer``
    of a changed line where they differ (``{}`` otherwise); ``causes``: a non-empty list.

``totals``
    Every key of either document, with ``{"old", "new", "delta"}`` (a key absent on one side
    counts as 0.00 there): ``pool``; ``goals`` (the document's ``totals.goals``: after the
    goal's own caps, before the return cap; it moves by the lines' ``after_goal_cap``);
    ``goals_paid`` (what each goal puts in the pool after every cap, the sum of the
    periods' ``by_goal``; it moves by the lines' ``delta``); ``goal_cap_cut``,
    ``return_cap_cut``; ``periods`` (each period's ``amount``); ``payers``
    (``totals.by_payer``); ``recipients`` (``totals.by_recipient``); and ``changed``: how
    many keys of each map have a non-zero delta.

``summary``
    ``lines``: ``{"appeared", "vanished", "changed", "unchanged"}``; ``causes``: for each
    cause kind found, the number of lines listing it; ``unexplained``: the number of lines
    the trails do not explain (0 but for a document edited by hand, or an engine change).

Causes
------

Each cause is ``{"kind": …, …its facts}``. A line's causes are listed in the order of
`CAUSE_KINDS`, the order below: the direct ones first (the ledger rows, the subject, the
contract's price), then what they move (means, outcomes, caps, tranches), and last the
fallbacks.

Lines in both documents (``changed``), found by comparing the two trails step by step:

``row_changed``
    An ``input`` step of the same (subject, measure, point) reads another value:
    ``file``, ``subject``, ``measure``, ``point``, ``old_value``, ``new_value``,
    ``old_line``, ``new_line`` (a row read at another line with the same value is no cause:
    rows above it were added or removed). When the file is the same in both documents (a
    later delivery, read once ``--known-as-of`` moved): ``old_row_exclusion``, why the old
    settlement left out the new row (``not_delivered``), and ``new_row_exclusion``, why
    the new one leaves out the old row (``superseded``), each where there is one.
``late_observation``
    The old trail has a ``missing`` step (the value was imputed or absent) where the new
    one reads an ``input``: ``file``, ``line``, ``subject``, ``measure``, ``point``,
    ``value``; ``old_row_exclusion`` when the file is the same and the old settlement left
    that row out (``not_delivered`` before ``--known-as-of`` moved).
``row_withdrawn``
    The reverse: an ``input`` of the old trail is a ``missing`` step of the new one:
    ``file``, ``line`` and ``value`` (the old row's), ``subject``, ``measure``, ``point``;
    ``new_row_exclusion`` when the file is the same and the new settlement left the row
    out.
``subject``
    The ``subject`` step's facts differ (a household's start or end, a person's age, a
    cohort's group sizes): ``subject``, ``household``, ``level``, ``old``, ``new`` (the
    facts, or ``{"detail": …}`` from a document without facts).
``date_moved``
    The line's date differs: its point falls on another day (a household's start or end
    moved — the end is in no trail of a line that is not imputed — or the point's
    definition changed), and so perhaps in another period: ``point``, ``old_date``,
    ``new_date``, ``old_period``, ``new_period``.
``payer``
    The line's payer differs (the contract moved the goal to another payer): ``old``,
    ``new``.
``rate``
    The ``payment`` step's price differs: ``old``, ``new``, ``per`` (and ``old_per`` when
    the unit changed), ``expr`` the price expression of a ``value`` step named ``rate``
    (``None`` for a stated amount).
``tier``
    A ``tiers`` step priced the line at another place in its goal's tiers (the goal's units before it moved, or
    the tiers changed): ``goal``, ``old_units_before``, ``new_units_before``, ``old_parts``, ``new_parts``.
``replaced``
    A ``replaces`` step took another amount off (what the replaced goal paid the subject moved): ``goal``,
    ``old_paid``, ``new_paid``.
``imputation_mean``
    Both trails impute, and the ``impute`` step's mean, number of observations or method
    differs: ``point``, ``old_mean``, ``new_mean``, ``old_observations``,
    ``new_observations``, ``old_method``, ``new_method``.
``group_mean``
    A ``compute`` step (a comparison group's mean at a point) has another value:
    ``name``, ``point``, ``old_value``, ``new_value``, ``old_facts``, ``new_facts``.
``aggregate``
    An ``aggregate`` step (``total``/``mean`` of a measure) has another value: ``func``,
    ``measure``, ``point``, ``old_value``, ``new_value``, ``old_observations``,
    ``new_observations``.
``outcome``
    The outcome moved and none of the causes above (inputs, subject, means) says why: the
    reason is in the ``value`` steps (a table cell, a let, a figure the contract changed):
    ``old``, ``new`` (the outcomes), ``steps``: the value steps that differ, but the price
    (a ``rate`` cause) and the outcome's own step unless its text changed (``name``,
    ``point``, ``old_value``, ``new_value``, and ``old_expr``/``new_expr`` when the
    expression's text changed; ``None`` on the side without the step), ``notes``: notes
    (``code`` or ``text``) found on one side only.
``rounding``
    A ``round`` step's rule changed (``places`` or ``mode``): ``rule``, ``point``,
    ``old_places``, ``new_places``, ``old_mode``, ``new_mode``.
``goal_cap`` / ``return_cap``
    A ``cap`` step (matched by cap, ``per`` and ``period``) cut differently — the line's own
    value may be unchanged while the running total before it moved: ``cap`` (the goal's
    id, the payer's id, or ``"return"``), ``on`` (``"goal"``, ``"payer"``, ``"return"``),
    ``per``, ``period``, ``old`` and ``new``: ``{"limit", "running_before", "before",
    "after", "cut"}`` (``None`` where the trail has no such cap).
``tranche``
    The ``tranche`` steps put the line in other tranches (the pool before it moved across a
    threshold), with other shares, thresholds or rounding, or split it at another place:
    ``old`` and ``new``: ``{"pool_before", "tranches": [{"tranche", "amount", "until",
    "shares", "split"}]}``.

Lines of the new document only (``appeared``):

``now_due``
    The line's date is after the old settlement date, or the old document excluded it as
    ``not_due``: ``date``, ``old_as_of``, ``new_as_of``, ``exclusion`` (the old exclusion,
    or ``None``).
``now_counted``
    The old document's ``exclusions`` has the subject (at the point, or as a whole) for
    another reason: ``reason``, ``point``, ``detail``, ``facts`` of that exclusion.
``new_subject``
    The subject is in no line and no exclusion of the old document (a household added to
    the ledger): ``subject``, ``household``, ``level``.
``new_rows``
    The rows its trail reads that no line of the old document read (new rows, or rows not
    read before): ``rows``: ``[{"file", "line", "subject", "measure", "point", "value"}]``,
    each with ``old_row_exclusion`` when the file is the same and the old settlement left
    the row out. Listed when the line is not ``now_due`` and the old document did not
    exclude the subject as a whole (``not_counting``, ``not_eligible``, which say why): with
    no exclusion (a row added for a new subject) or one for want of a value
    (``missing_not_replaced``, ``replaced_no_correction``, ``rate_missing``,
    ``division_by_zero``: the row that now gives it).

Lines of the old document only (``vanished``), the mirror: ``no_longer_due`` (the date is
after the new settlement date or the new document excludes it as ``not_due``),
``no_longer_counted`` (the new exclusion's ``reason``, ``point``, ``detail``, ``facts``),
``subject_gone``, ``rows_gone`` (rows the old trail read that no line of the new document
reads; each with ``new_row_exclusion`` when the file is the same).

Fallbacks, when the trails name nothing:

``rule``
    The goal's declaration in the document's ``rules`` differs (or is on one side only):
    ``goal``, ``rule``, ``old_text``, ``new_text``.
``contract``
    The contract's sha256 differs, though not the goal's text (a point's definition, a
    table, …): ``old_sha256``, ``new_sha256``.
``unexplained``
    Only when nothing else applies: ``fields`` (which of the line's fields differ).

`diff` raises `ValueError` with a message for anything that is not a settlement document,
for a damaged one, and for a settlement without trails (causes need `settle --trails`).
It is O(lines + steps): lines are indexed by id, trails are read only for lines that
differ, and the document-wide indexes (exclusions, rows read) only when a line appeared
or vanished.
"""

from __future__ import annotations

import decimal
from decimal import Decimal, InvalidOperation

__all__ = ["diff", "CAUSE_KINDS"]

#: Every cause kind, in the order a line lists them: direct causes, derived ones, fallbacks.
CAUSE_KINDS = ("now_due", "no_longer_due", "now_counted", "no_longer_counted", "new_subject", "subject_gone",
               "new_rows", "rows_gone",
               "row_changed", "late_observation", "row_withdrawn", "subject", "date_moved", "payer", "rate",
               "tier", "replaced", "imputation_mean", "group_mean", "aggregate", "outcome", "rounding", "goal_cap", "return_cap",
               "tranche", "rule", "contract", "unexplained")
_RANK = {kind: i for i, kind in enumerate(CAUSE_KINDS)}

_CENT = Decimal("0.01")
#: Digits an amount or a number of a trail may have either side of the point (trails carry 50 significant
#: digits); the sums of such numbers are exact in the precision `diff` computes with.
_DIGITS = 60
_PRECISION = 4 * _DIGITS
_ZERO = Decimal("0.00")
#: The fields of a line that, when they differ, make it a changed line.
_MONEY_FIELDS = ("amount", "gross", "after_goal_cap")
_PLACE_FIELDS = ("date", "period", "payer")
#: Exclusions of a line for want of a value: the rows a trail reads say why it came or went.
_VALUE_REASONS = ("missing_not_replaced", "replaced_no_correction", "rate_missing", "division_by_zero")


# ---- numbers ------------------------------------------------------------------------------------

def _money(value, where: str) -> Decimal:
    """An amount of a document as a Decimal; a ValueError naming `where` if it is not one."""
    d = _number(value)
    if d is None:
        raise ValueError(f"{where}: {value!r} is not an amount")
    return d


def _number(value) -> Decimal | None:
    """A number of a trail (exact decimal text), or None when it is none ("missing", absent, damaged)."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return None
    try:
        d = Decimal(value)
    except (InvalidOperation, ValueError):
        return None
    return d if _bounded(d) else None


def _bounded(d: Decimal) -> bool:
    """A finite number of at most _DIGITS digits either side of the point."""
    return d.is_finite() and -_DIGITS <= d.as_tuple().exponent and d.adjusted() <= _DIGITS


def _show(d: Decimal | None) -> str | None:
    """An amount as the documents write it: at least two places, no negative zero."""
    if d is None:
        return None
    if d == 0:
        d = abs(d)
    if d.as_tuple().exponent > -2:
        d = d.quantize(_CENT)
    return format(d, "f")


def _same(a, b) -> bool:
    """Two values of trails are the same: equal text, or equal numbers written differently."""
    if a == b:
        return True
    x, y = _number(a), _number(b)
    return x is not None and y is not None and x == y


# ---- validation ---------------------------------------------------------------------------------

def _check(doc, label: str) -> dict:
    """Check that `doc` is a settlement document with trails, and index its lines by id."""
    if not isinstance(doc, dict):
        raise ValueError(f"the {label} settlement is not a settlement document: "
                         f"expected a JSON object, got {type(doc).__name__}")
    for key, kind in (("lines", list), ("totals", dict), ("inputs", dict)):
        if key not in doc:
            raise ValueError(f"the {label} settlement is not a settlement document: it has no {key!r}")
        if not isinstance(doc[key], kind):
            raise ValueError(f"the {label} settlement is damaged: {key!r} is not a "
                             f"{'list' if kind is list else 'JSON object'}")
    if "as_of" not in doc:
        raise ValueError(f"the {label} settlement is not a settlement document: it has no 'as_of'")
    for key in ("exclusions", "row_exclusions", "periods", "goals"):
        if doc.get(key) is not None and not isinstance(doc[key], list):
            raise ValueError(f"the {label} settlement is damaged: {key!r} is not a list")
    index: dict[str, dict] = {}
    traced = False
    for n, line in enumerate(doc["lines"]):
        where = f"the {label} settlement, lines[{n}]"
        if not isinstance(line, dict):
            raise ValueError(f"{where} is not a JSON object")
        ident = line.get("id")
        if not isinstance(ident, str):
            raise ValueError(f"{where} has no id")
        if ident in index:
            raise ValueError(f"the {label} settlement is damaged: the line {ident} is there twice")
        for field in _MONEY_FIELDS:
            _money(line.get(field), f"{where} ({ident}), {field}")
        split = line.get("split")
        if not isinstance(split, dict):
            raise ValueError(f"{where} ({ident}) has no split")
        for party, v in split.items():
            _money(v, f"{where} ({ident}), split {party}")
        trace = line.get("trace")
        if trace is None:
            trace = []
        if not isinstance(trace, list):
            raise ValueError(f"{where} ({ident}): its trace is not a list of steps")
        traced = traced or bool(trace)
        index[ident] = line
    if index and not traced:
        raise ValueError(f"the {label} settlement has no trails (every line's trace is empty): the causes of a "
                         f"difference are read from the lines' audit trails; settle it again with --trails")
    return index


# ---- trails -------------------------------------------------------------------------------------

def _h(value):
    """`value` as a key: itself when hashable as JSON scalars are, else its text (a damaged document)."""
    return value if value is None or isinstance(value, (str, int, float)) else repr(value)


def _key(step: dict, *fields: str) -> tuple:
    return tuple(_h(step.get(f)) for f in fields)


def _row_key(step: dict) -> tuple:
    """What a row measures: (subject, measure, point), the same in `input` and `missing` steps."""
    return _key(step, "subject", "measure", "point")


def _dict(value) -> dict:
    return value if isinstance(value, dict) else {}


class _Trail:
    """A line's trace, its steps sorted by kind and keyed so that two trails compare step by step."""

    __slots__ = ("inputs", "missing", "subject", "values", "computes", "aggregates", "imputes", "payment",
                 "tiers", "replaces", "rounds", "caps", "tranches", "rule", "notes")

    def __init__(self, trace: list):
        self.inputs: dict[tuple, dict] = {}
        self.missing: dict[tuple, dict] = {}
        self.subject = self.payment = self.rule = self.tiers = self.replaces = None
        self.values: dict[tuple, dict] = {}
        self.computes: dict[tuple, dict] = {}
        self.aggregates: dict[tuple, dict] = {}
        self.imputes: dict = {}
        self.rounds: dict[tuple, dict] = {}
        self.caps: dict[tuple, dict] = {}
        self.tranches: list[dict] = []
        self.notes: set = set()
        for step in trace:
            if not isinstance(step, dict):
                continue                 # a damaged step says nothing
            kind = step.get("kind")
            if kind == "input":
                self.inputs.setdefault(_row_key(step), step)
            elif kind == "missing":
                self.missing.setdefault(_row_key(step), step)
            elif kind == "subject":
                self.subject = self.subject or step
            elif kind == "rule":
                self.rule = self.rule or step
            elif kind == "value":
                _numbered(self.values, _key(step, "name", "point"), step)
            elif kind == "compute":
                _numbered(self.computes, (_h(step.get("name") or step.get("expr")), _h(step.get("point"))), step)
            elif kind == "aggregate":
                _numbered(self.aggregates, _key(step, "func", "measure", "point"), step)
            elif kind == "impute":
                self.imputes.setdefault(_h(step.get("point")), step)
            elif kind == "payment":
                self.payment = self.payment or step
            elif kind == "tiers":
                self.tiers = self.tiers or step
            elif kind == "replaces":
                self.replaces = self.replaces or step
            elif kind == "round":
                _numbered(self.rounds, _key(step, "rule", "point"), step)
            elif kind == "cap":
                self.caps.setdefault(_key(step, "cap", "per", "period"), step)
            elif kind == "tranche":
                self.tranches.append(step)
            elif kind == "note":
                self.notes.add(_h(step.get("code") or step.get("text")))


def _numbered(into: dict, key: tuple, step: dict) -> None:
    """Key a step by `key` and its occurrence among steps of that key (the 2nd lookup of the same name)."""
    n = 0
    while (*key, n) in into:
        n += 1
    into[(*key, n)] = step


def _rows_read(lines) -> set:
    """The (subject, measure, point) of every input step of these lines' trails."""
    read = set()
    for line in lines:
        for step in line.get("trace") or ():
            if isinstance(step, dict) and step.get("kind") == "input":
                read.add(_row_key(step))
    return read


class _Side:
    """One document and the indexes a line that appeared or vanished is explained from (built when first asked)."""

    def __init__(self, doc: dict, lines: dict[str, dict]):
        self.doc, self.lines = doc, lines
        self._exclusions = self._subjects = self._read = self._row_exclusions = None

    @property
    def exclusions(self) -> dict:
        """(goal, subject, point) → the first exclusion; point None for a subject excluded as a whole."""
        if self._exclusions is None:
            self._exclusions = {}
            for ex in self.doc.get("exclusions") or ():
                if isinstance(ex, dict):
                    self._exclusions.setdefault(_key(ex, "goal", "subject", "point"), ex)
        return self._exclusions

    @property
    def subjects(self) -> set:
        if self._subjects is None:
            self._subjects = {_h(ln.get("subject")) for ln in self.lines.values()}
            self._subjects.update(_h(ex.get("subject")) for ex in self.doc.get("exclusions") or ()
                                  if isinstance(ex, dict))
        return self._subjects

    @property
    def read(self) -> set:
        if self._read is None:
            self._read = _rows_read(self.lines.values())
        return self._read

    @property
    def row_exclusions(self) -> dict:
        """(file, line) → the row exclusion."""
        if self._row_exclusions is None:
            self._row_exclusions = {}
            for ex in self.doc.get("row_exclusions") or ():
                if isinstance(ex, dict):
                    self._row_exclusions.setdefault(_key(ex, "file", "line"), ex)
        return self._row_exclusions

    def exclusion(self, line: dict) -> dict | None:
        goal, subject, point = _key(line, "goal", "subject", "point")
        return self.exclusions.get((goal, subject, point)) or self.exclusions.get((goal, subject, None))


class _Context:
    """Both documents, and what the line explanations share."""

    def __init__(self, old: dict, new: dict, old_lines: dict, new_lines: dict):
        self.old, self.new = _Side(old, old_lines), _Side(new, new_lines)
        self.old_as_of, self.new_as_of = old.get("as_of"), new.get("as_of")
        self.same_files = {f for f, (a, b) in _ledger_hashes(old, new).items() if a is not None and a == b}
        o_contract, n_contract = _contract(old), _contract(new)
        self.contract_changed = o_contract.get("sha256") != n_contract.get("sha256")
        self.old_sha, self.new_sha = o_contract.get("sha256"), n_contract.get("sha256")
        self.old_rules = old.get("rules") if isinstance(old.get("rules"), dict) else {}
        self.new_rules = new.get("rules") if isinstance(new.get("rules"), dict) else {}

    def row_exclusion(self, side: _Side, file, line) -> dict | None:
        """Why `side` left out row `line` of `file`, when that file is the same in both documents."""
        if _h(file) not in self.same_files:
            return None
        ex = side.row_exclusions.get((_h(file), _h(line)))
        return None if ex is None else {"reason": ex.get("reason"), "detail": ex.get("detail"),
                                        "facts": ex.get("facts")}


def _contract(doc: dict) -> dict:
    c = doc["inputs"].get("contract")
    return c if isinstance(c, dict) else {}


def _ledger_files(doc: dict) -> dict:
    files = {}
    ledger = doc["inputs"].get("ledger")
    for f in ledger if isinstance(ledger, list) else ():
        if isinstance(f, dict) and isinstance(f.get("file"), str):
            files.setdefault(f["file"], f)
    return files


def _ledger_hashes(old: dict, new: dict) -> dict:
    o, n = _ledger_files(old), _ledger_files(new)
    return {f: ((o.get(f) or {}).get("sha256"), (n.get(f) or {}).get("sha256")) for f in sorted(set(o) | set(n))}


# ---- causes of a changed line -------------------------------------------------------------------

def _cut(step: dict | None) -> Decimal | None:
    if step is None:
        return _ZERO
    before, after = _number(step.get("before")), _number(step.get("after"))
    return None if before is None or after is None else before - after


def _cap_facts(step: dict | None) -> dict | None:
    if step is None:
        return None
    cut = _cut(step)
    return {"limit": step.get("limit"), "running_before": step.get("running_before"), "before": step.get("before"),
            "after": step.get("after"), "cut": _show(cut)}


def _tranche_facts(steps: list) -> dict:
    return {"pool_before": steps[0].get("pool_before") if steps else None,
            "tranches": [{"tranche": s.get("tranche"), "amount": s.get("amount"), "until": s.get("until"),
                          "shares": s.get("shares"), "split": s.get("split")} for s in steps]}


def _tranche_signature(steps: list) -> list:
    return [(s.get("tranche"), s.get("until"), sorted(_dict(s.get("shares")).items()), s.get("remainder"),
             s.get("rounding")) for s in steps]


def _inputs_causes(o: _Trail, n: _Trail, ctx: _Context) -> list:
    """row_changed, late_observation, row_withdrawn: the rows the two trails read differently."""
    causes = []
    for key, was in o.inputs.items():
        now = n.inputs.get(key)
        if now is not None:
            if not _same(was.get("value"), now.get("value")):
                cause = {"kind": "row_changed", "file": now.get("file"), "subject": key[0], "measure": key[1],
                         "point": key[2], "old_value": was.get("value"), "new_value": now.get("value"),
                         "old_line": was.get("line"), "new_line": now.get("line")}
                if was.get("file") != now.get("file"):
                    cause["old_file"] = was.get("file")
                if was.get("line") != now.get("line"):
                    held = ctx.row_exclusion(ctx.old, now.get("file"), now.get("line"))
                    gone = ctx.row_exclusion(ctx.new, was.get("file"), was.get("line"))
                    if held is not None:
                        cause["old_row_exclusion"] = held
                    if gone is not None:
                        cause["new_row_exclusion"] = gone
                causes.append(cause)
        elif key in n.missing:
            cause = {"kind": "row_withdrawn", "file": was.get("file"), "line": was.get("line"), "subject": key[0],
                     "measure": key[1], "point": key[2], "value": was.get("value")}
            gone = ctx.row_exclusion(ctx.new, was.get("file"), was.get("line"))
            if gone is not None:
                cause["new_row_exclusion"] = gone
            causes.append(cause)
    for key, now in n.inputs.items():
        if key in o.missing and key not in o.inputs:
            cause = {"kind": "late_observation", "file": now.get("file"), "line": now.get("line"), "subject": key[0],
                     "measure": key[1], "point": key[2], "value": now.get("value")}
            held = ctx.row_exclusion(ctx.old, now.get("file"), now.get("line"))
            if held is not None:
                cause["old_row_exclusion"] = held
            causes.append(cause)
    return causes


def _subject_facts(step: dict | None):
    if step is None:
        return None
    facts = step.get("facts")
    return facts if facts is not None else {"detail": step.get("detail")}


def _changed_values(o: _Trail, n: _Trail) -> list:
    """The value steps (but the price) whose value or expression differs, in the new trail's order."""
    out = []
    for key in list(n.values) + [k for k in o.values if k not in n.values]:
        if key[0] == "rate":
            continue
        if key[0] == "outcome" and (o.values.get(key) or {}).get("expr") == (n.values.get(key) or {}).get("expr"):
            continue                    # its value is the cause's old/new; named when its text changed
        was, now = o.values.get(key), n.values.get(key)
        old_v, new_v = (was or {}).get("value"), (now or {}).get("value")
        old_e, new_e = (was or {}).get("expr"), (now or {}).get("expr")
        if was is not None and now is not None and _same(old_v, new_v) and old_e == new_e:
            continue
        step = {"name": key[0], "point": key[1], "old_value": old_v, "new_value": new_v}
        if old_e != new_e:
            step.update(old_expr=old_e, new_expr=new_e)
        out.append(step)
    return out


def _mean_causes(o: _Trail, n: _Trail) -> list:
    """imputation_mean, group_mean, aggregate: the means and totals over other subjects that moved."""
    causes = []
    for point, step in n.imputes.items():
        before = o.imputes.get(point)
        if before is not None and not (_same(before.get("mean"), step.get("mean"))
                                       and before.get("observations") == step.get("observations")
                                       and before.get("method") == step.get("method")):
            causes.append({"kind": "imputation_mean", "point": point, "old_mean": before.get("mean"),
                           "new_mean": step.get("mean"), "old_observations": before.get("observations"),
                           "new_observations": step.get("observations"), "old_method": before.get("method"),
                           "new_method": step.get("method")})
    for key, step in n.computes.items():
        before = o.computes.get(key)
        if before is not None and not _same(before.get("value"), step.get("value")):
            causes.append({"kind": "group_mean", "name": key[0], "point": key[1], "old_value": before.get("value"),
                           "new_value": step.get("value"), "old_facts": before.get("facts"),
                           "new_facts": step.get("facts")})
    for key, step in n.aggregates.items():
        before = o.aggregates.get(key)
        if before is not None and not _same(before.get("value"), step.get("value")):
            causes.append({"kind": "aggregate", "func": key[0], "measure": key[1], "point": key[2],
                           "old_value": before.get("value"), "new_value": step.get("value"),
                           "old_observations": before.get("observations"),
                           "new_observations": step.get("observations")})
    return causes


def _cap_causes(o: _Trail, n: _Trail, goal) -> list:
    """goal_cap, return_cap: the caps (matched by cap, per and period) that cut the line differently."""
    causes = []
    for key in list(o.caps) + [k for k in n.caps if k not in o.caps]:
        before, after = o.caps.get(key), n.caps.get(key)
        cut_old, cut_new = _cut(before), _cut(after)
        if cut_old is None or cut_new is None or cut_old != cut_new:
            cap = key[0]
            on = "return" if cap == "return" else "goal" if cap == goal else "payer"
            causes.append({"kind": "return_cap" if on == "return" else "goal_cap", "cap": cap, "on": on,
                           "per": key[1], "period": key[2], "old": _cap_facts(before), "new": _cap_facts(after)})
    return causes


def _tranche_causes(o: _Trail, n: _Trail) -> list:
    """tranche: the line falls in other tranches, with other shares or thresholds, or is split elsewhere."""
    if _tranche_signature(o.tranches) != _tranche_signature(n.tranches) or (
            max(len(o.tranches), len(n.tranches)) > 1
            and [s.get("amount") for s in o.tranches] != [s.get("amount") for s in n.tranches]):
        return [{"kind": "tranche", "old": _tranche_facts(o.tranches), "new": _tranche_facts(n.tranches)}]
    return []


def _changed_causes(was: dict, now: dict, ctx: _Context) -> list:
    """The causes of a line that is in both documents and differs."""
    o, n = _Trail(was.get("trace") or []), _Trail(now.get("trace") or [])
    causes = _inputs_causes(o, n, ctx)
    if o.subject is not None and n.subject is not None and _subject_facts(o.subject) != _subject_facts(n.subject):
        causes.append({"kind": "subject", "subject": n.subject.get("subject"), "household": n.subject.get("household"),
                       "level": n.subject.get("level"), "old": _subject_facts(o.subject),
                       "new": _subject_facts(n.subject)})
    if was.get("date") != now.get("date"):
        causes.append({"kind": "date_moved", "point": now.get("point"), "old_date": was.get("date"),
                       "new_date": now.get("date"), "old_period": was.get("period"), "new_period": now.get("period")})
    if was.get("payer") != now.get("payer"):
        causes.append({"kind": "payer", "old": was.get("payer"), "new": now.get("payer")})
    if o.payment is not None and n.payment is not None and (
            not _same(o.payment.get("rate"), n.payment.get("rate")) or o.payment.get("per") != n.payment.get("per")):
        price = n.values.get(("rate", _h(n.payment.get("point")), 0)) or next(
            (s for k, s in n.values.items() if k[0] == "rate"), None)
        cause = {"kind": "rate", "old": o.payment.get("rate"), "new": n.payment.get("rate"),
                 "per": n.payment.get("per"), "expr": price.get("expr") if price else None}
        if o.payment.get("per") != n.payment.get("per"):
            cause["old_per"] = o.payment.get("per")
        causes.append(cause)
    if o.tiers is not None and n.tiers is not None and (
            not _same(o.tiers.get("units_before"), n.tiers.get("units_before"))
            or o.tiers.get("parts") != n.tiers.get("parts")):
        causes.append({"kind": "tier", "goal": n.tiers.get("goal"), "old_units_before": o.tiers.get("units_before"),
                       "new_units_before": n.tiers.get("units_before"), "old_parts": o.tiers.get("parts"),
                       "new_parts": n.tiers.get("parts")})
    if o.replaces is not None and n.replaces is not None and not _same(o.replaces.get("paid"), n.replaces.get("paid")):
        causes.append({"kind": "replaced", "goal": n.replaces.get("goal"), "old_paid": o.replaces.get("paid"),
                       "new_paid": n.replaces.get("paid")})
    causes += _mean_causes(o, n)
    explained = {c["kind"] for c in causes} & {"row_changed", "late_observation", "row_withdrawn", "subject",
                                               "imputation_mean", "group_mean", "aggregate"}
    if not _same(was.get("outcome"), now.get("outcome")) and not explained:
        causes.append({"kind": "outcome", "old": was.get("outcome"), "new": now.get("outcome"),
                       "steps": _changed_values(o, n),
                       "notes": sorted(str(x) for x in o.notes ^ n.notes)})
    for key, step in n.rounds.items():
        before = o.rounds.get(key)
        if before is not None and (before.get("places"), before.get("mode")) != (step.get("places"), step.get("mode")):
            causes.append({"kind": "rounding", "rule": key[0], "point": key[1], "old_places": before.get("places"),
                           "new_places": step.get("places"), "old_mode": before.get("mode"),
                           "new_mode": step.get("mode")})
    causes += _cap_causes(o, n, now.get("goal"))
    causes += _tranche_causes(o, n)
    if not causes:
        causes = _fallback(was, now, ctx, _differing_fields(was, now))
    return causes


def _rule_key(line: dict) -> str:
    for step in line.get("trace") or ():
        if isinstance(step, dict) and step.get("kind") == "rule" and isinstance(step.get("rule"), str):
            return step["rule"]
    return f"goal:{line.get('goal')}"


def _rule_text(line: dict | None, rules: dict, key: str):
    """The text of a line's rule: in the document's `rules`, or (an earlier engine) in its rule step."""
    for step in (line or {}).get("trace") or ():
        if isinstance(step, dict) and step.get("kind") == "rule" and step.get("text") is not None:
            return step["text"]
    return rules.get(key)


def _fallback(was: dict | None, now: dict | None, ctx: _Context, fields: list) -> list:
    """rule, contract, or unexplained: for a line whose trails name no cause."""
    line = now if now is not None else was
    key = _rule_key(line)
    old_text, new_text = _rule_text(was, ctx.old_rules, key), _rule_text(now, ctx.new_rules, key)
    if old_text != new_text:
        return [{"kind": "rule", "goal": line.get("goal"), "rule": key, "old_text": old_text, "new_text": new_text}]
    if ctx.contract_changed:
        return [{"kind": "contract", "old_sha256": ctx.old_sha, "new_sha256": ctx.new_sha}]
    return [{"kind": "unexplained", "fields": fields}]


def _differing_fields(was: dict, now: dict) -> list:
    return [f for f in (*_MONEY_FIELDS, "split", "outcome", *_PLACE_FIELDS) if was.get(f) != now.get(f)]


# ---- causes of a line that appeared or vanished -------------------------------------------------

def _rows(line: dict, read: set, ctx: _Context, side: _Side, label: str) -> list:
    """The input rows of `line`'s trail whose (subject, measure, point) the other document's lines do not
    read (`read`), each with `label`: why `side` (the other document) left that row out, if it did."""
    rows, seen = [], set()
    for step in line.get("trace") or ():
        if not isinstance(step, dict) or step.get("kind") != "input":
            continue
        key = _row_key(step)
        if key in read or key in seen:
            continue
        seen.add(key)
        row = {"file": step.get("file"), "line": step.get("line"), "subject": key[0], "measure": key[1],
               "point": key[2], "value": step.get("value")}
        ex = ctx.row_exclusion(side, step.get("file"), step.get("line"))
        if ex is not None:
            row[label] = ex
        rows.append(row)
    return rows


def _one_side_causes(line: dict, ctx: _Context, appeared: bool) -> list:
    """The causes of a line of one document only: `appeared` (in the new one), else vanished."""
    other = ctx.old if appeared else ctx.new
    other_as_of = ctx.old_as_of if appeared else ctx.new_as_of
    # The kinds of an appeared line, and their mirrors for a vanished one.
    due_kind, counted_kind, subject_kind, rows_kind, row_exclusion = (
        ("now_due", "now_counted", "new_subject", "new_rows", "old_row_exclusion") if appeared else
        ("no_longer_due", "no_longer_counted", "subject_gone", "rows_gone", "new_row_exclusion"))
    causes = []
    date = line.get("date")
    ex = other.exclusion(line)
    not_due = ex is not None and ex.get("reason") == "not_due"
    due = not_due or (isinstance(date, str) and isinstance(other_as_of, str) and date > other_as_of)
    if due:
        causes.append({"kind": due_kind, "date": date, "old_as_of": ctx.old_as_of, "new_as_of": ctx.new_as_of,
                       "exclusion": ({"reason": ex.get("reason"), "detail": ex.get("detail"), "facts": ex.get("facts")}
                                     if not_due else None)})
    if ex is not None and not not_due:
        causes.append({"kind": counted_kind, "reason": ex.get("reason"), "point": ex.get("point"),
                       "detail": ex.get("detail"), "facts": ex.get("facts")})
    if _h(line.get("subject")) not in other.subjects:
        step = _Trail(line.get("trace") or []).subject or {}
        causes.append({"kind": subject_kind, "subject": line.get("subject"), "household": step.get("household"),
                       "level": step.get("level")})
    if not due and (ex is None or ex.get("reason") in _VALUE_REASONS):
        rows = _rows(line, other.read, ctx, other, row_exclusion)
        if rows:
            causes.append({"kind": rows_kind, "rows": rows})
    if not causes:
        causes = _fallback(None if appeared else line, line if appeared else None, ctx, ["id"])
    return causes


# ---- lines --------------------------------------------------------------------------------------

def _differs(was: dict, now: dict) -> bool:
    """Whether a line in both documents changed: its money, split, date, period or payer."""
    for field in _MONEY_FIELDS:
        if was[field] != now[field] and Decimal(was[field]) != Decimal(now[field]):
            return True
    if was["split"] != now["split"]:
        ws, ns = was["split"], now["split"]
        if set(ws) != set(ns) or any(Decimal(ws[k]) != Decimal(ns[k]) for k in ws):
            return True
    return any(was.get(f) != now.get(f) for f in _PLACE_FIELDS)


def _pair(was: dict | None, now: dict | None, field: str) -> dict:
    a = None if was is None else _money(was[field], field)
    b = None if now is None else _money(now[field], field)
    return {"old": _show(a), "new": _show(b), "delta": _show((b or _ZERO) - (a or _ZERO))}


def _split_delta(was: dict | None, now: dict | None) -> dict:
    ws, ns = (was or {}).get("split") or {}, (now or {}).get("split") or {}
    return {party: _show(_money(ns.get(party, "0"), "split") - _money(ws.get(party, "0"), "split"))
            for party in sorted(set(ws) | set(ns))}


def _line_record(was: dict | None, now: dict | None, change: str, causes: list) -> dict:
    line = now if now is not None else was
    amount = _pair(was, now, "amount")
    previously = {} if was is None or now is None else \
        {f: was.get(f) for f in _PLACE_FIELDS if was.get(f) != now.get(f)}
    return {"id": line["id"], "goal": line.get("goal"), "subject": line.get("subject"), "point": line.get("point"),
            "date": line.get("date"), "period": line.get("period"), "payer": line.get("payer"), "change": change,
            "old": amount["old"], "new": amount["new"], "delta": amount["delta"],
            "gross": _pair(was, now, "gross"), "after_goal_cap": _pair(was, now, "after_goal_cap"),
            "split": {"old": None if was is None else dict(sorted(was["split"].items())),
                      "new": None if now is None else dict(sorted(now["split"].items()))},
            "split_delta": _split_delta(was, now),
            "outcome": {"old": None if was is None else was.get("outcome"),
                        "new": None if now is None else now.get("outcome")},
            "imputed": {"old": None if was is None else was.get("imputed"),
                        "new": None if now is None else now.get("imputed")},
            "previously": previously,
            "causes": sorted(causes, key=lambda c: _RANK.get(c["kind"], len(_RANK)))}


# ---- totals -------------------------------------------------------------------------------------

def _map(value, where: str) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValueError(f"{where} is not a JSON object")
    return {k: _money(v, f"{where}.{k}") for k, v in value.items()}


def _compare(old: dict, new: dict, keys: list) -> tuple[dict, int]:
    out, changed = {}, 0
    for k in keys:
        a, b = old.get(k, _ZERO), new.get(k, _ZERO)
        out[k] = {"old": _show(a), "new": _show(b), "delta": _show(b - a)}
        changed += b != a
    return out, changed


def _goal_order(old: dict, new: dict, *maps: dict) -> list:
    order = []
    for doc in (new, old):
        for g in doc.get("goals") or ():
            if isinstance(g, dict) and isinstance(g.get("id"), str) and g["id"] not in order:
                order.append(g.get("id"))
    rest = sorted({k for m in maps for k in m} - set(order), key=str)
    return [g for g in order if any(g in m for m in maps) or not maps] + rest


def _periods(doc: dict, label: str) -> tuple[dict, dict, dict]:
    """A document's periods: name → amount, name → start (for order), goal → amount paid (sum of by_goal)."""
    amounts, starts, paid = {}, {}, {}
    for n, p in enumerate(doc.get("periods") or ()):
        if not isinstance(p, dict) or not isinstance(p.get("period"), str):
            raise ValueError(f"the {label} settlement is damaged: periods[{n}] has no period")
        name = p["period"]
        amounts[name] = _money(p.get("amount"), f"the {label} settlement, periods[{n}].amount")
        starts[name] = str(p.get("start") or "")
        for goal, v in _map(p.get("by_goal"), f"the {label} settlement, periods[{n}].by_goal").items():
            paid[goal] = paid.get(goal, _ZERO) + v
    return amounts, starts, paid


def _totals(old: dict, new: dict) -> dict:
    ot, nt = old["totals"], new["totals"]
    out, changed = {}, {}
    pool_old = _money(ot.get("pool", "0.00"), "the old settlement, totals.pool")
    pool_new = _money(nt.get("pool", "0.00"), "the new settlement, totals.pool")
    out["pool"] = {"old": _show(pool_old), "new": _show(pool_new), "delta": _show(pool_new - pool_old)}
    og = _map(ot.get("goals"), "the old settlement, totals.goals")
    ng = _map(nt.get("goals"), "the new settlement, totals.goals")
    op, os_, opaid = _periods(old, "old")
    np_, ns, npaid = _periods(new, "new")
    goals = _goal_order(old, new, og, ng, opaid, npaid)
    out["goals"], changed["goals"] = _compare(og, ng, goals)
    out["goals_paid"], changed["goals_paid"] = _compare(opaid, npaid, goals)
    oc = _map(ot.get("goal_cap_cut"), "the old settlement, totals.goal_cap_cut")
    nc = _map(nt.get("goal_cap_cut"), "the new settlement, totals.goal_cap_cut")
    out["goal_cap_cut"], changed["goal_cap_cut"] = _compare(oc, nc, [g for g in goals if g in oc or g in nc])
    rc_old = _money(ot.get("return_cap_cut", "0.00"), "the old settlement, totals.return_cap_cut")
    rc_new = _money(nt.get("return_cap_cut", "0.00"), "the new settlement, totals.return_cap_cut")
    out["return_cap_cut"] = {"old": _show(rc_old), "new": _show(rc_new), "delta": _show(rc_new - rc_old)}
    starts = {**os_, **ns}
    periods = sorted(set(op) | set(np_), key=lambda p: (starts.get(p, ""), p))
    out["periods"], changed["periods"] = _compare(op, np_, periods)
    for key, name in (("by_payer", "payers"), ("by_recipient", "recipients")):
        a = _map(ot.get(key), f"the old settlement, totals.{key}")
        b = _map(nt.get(key), f"the new settlement, totals.{key}")
        out[name], changed[name] = _compare(a, b, sorted(set(a) | set(b)))
    out["changed"] = changed
    return out


# ---- inputs -------------------------------------------------------------------------------------

def _inputs(old: dict, new: dict) -> dict:
    oi, ni = old["inputs"], new["inputs"]
    oc, nc = _contract(old), _contract(new)
    of, nf = _ledger_files(old), _ledger_files(new)
    ledger = []
    for file in sorted(set(of) | set(nf)):
        a, b = of.get(file) or {}, nf.get(file) or {}
        if file not in of or file not in nf or a.get("sha256") != b.get("sha256") or a.get("rows") != b.get("rows"):
            ledger.append({"file": file, "old_sha256": a.get("sha256"), "new_sha256": b.get("sha256"),
                           "old_rows": a.get("rows"), "new_rows": b.get("rows")})
    out = {
        "as_of": {"old": old.get("as_of"), "new": new.get("as_of"), "changed": old.get("as_of") != new.get("as_of")},
        "known_as_of": {"old": oi.get("known_as_of"), "new": ni.get("known_as_of"),
                        "changed": oi.get("known_as_of") != ni.get("known_as_of")},
        "contract": {"old_path": oc.get("path"), "new_path": nc.get("path"), "old_sha256": oc.get("sha256"),
                     "new_sha256": nc.get("sha256"), "changed": oc.get("sha256") != nc.get("sha256")},
        "ledger_directory": {"old": oi.get("ledger_directory"), "new": ni.get("ledger_directory")},
        "ledger": ledger,
    }
    out["changed"] = bool(ledger) or any(out[k]["changed"] for k in ("as_of", "known_as_of", "contract"))
    return out


# ---- the diff -----------------------------------------------------------------------------------

def diff(old: dict, new: dict) -> dict:
    """What changed from settlement `old` to settlement `new`, and why (see the module's docstring).

    Both are settlement documents with trails, as `json.loads` gives them; a ValueError says
    what is wrong with one that is not.
    """
    with decimal.localcontext() as context:
        context.prec = _PRECISION   # amounts and their sums stay exact
        old_lines, new_lines = _check(old, "old"), _check(new, "new")
        ctx = _Context(old, new, old_lines, new_lines)
        goal_rank = {g: i for i, g in enumerate(_goal_order(old, new))}
        records = []
        unchanged = 0
        for position, (ident, was) in enumerate(old_lines.items()):
            now = new_lines.get(ident)
            if now is None:
                records.append(((was.get("date") or "", position), _line_record(
                    was, None, "vanished", _one_side_causes(was, ctx, appeared=False))))
            elif _differs(was, now):
                records.append(((now.get("date") or "", position), _line_record(
                    was, now, "changed", _changed_causes(was, now, ctx))))
            else:
                unchanged += 1
        for position, (ident, now) in enumerate(new_lines.items()):
            if ident not in old_lines:
                records.append(((now.get("date") or "", position), _line_record(
                    None, now, "appeared", _one_side_causes(now, ctx, appeared=True))))
        records.sort(key=lambda r: (str(r[0][0]), goal_rank.get(_h(r[1]["goal"]), len(goal_rank)), str(r[1]["goal"]),
                                    str(r[1]["subject"]), r[0][1], r[1]["id"]))
        lines = [r for _, r in records]
        counts = {"appeared": 0, "vanished": 0, "changed": 0}
        kinds: dict[str, int] = {}
        for r in lines:
            counts[r["change"]] += 1
            for kind in dict.fromkeys(c["kind"] for c in r["causes"]):
                kinds[kind] = kinds.get(kind, 0) + 1
        return {
            "inputs": _inputs(old, new),
            "lines": lines,
            "totals": _totals(old, new),
            "summary": {"lines": {**counts, "unchanged": unchanged},
                        "causes": dict(sorted(kinds.items(), key=lambda kv: _RANK.get(kv[0], len(_RANK)))),
                        "unexplained": kinds.get("unexplained", 0)},
        }
