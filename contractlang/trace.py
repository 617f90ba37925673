"""trace: the steps of an audit trail, one small frozen class per kind, holding facts only.

A step records what the evaluator computed: ids, dates and numbers as the settlement
document writes them (ISO dates, exact decimal text), never a sentence. `to_json`
writes a step as the document holds it (docs/settlement-json.md, "Steps"), adding the
English prose the document keeps for its readers (a `subject` step's `detail`, an
`impute` step's `reason`): that prose is made here, from the facts, and nowhere else.
`from_json` reads a document's step back into its class, so reports narrate typed
steps (`narrate.py`, English and Danish, written once per class) whether the
settlement was computed in this process or read from a file.

A document from an older engine may lack a step's facts; `from_json` then keeps its
prose in `said`, which reports show as written. Steps this engine makes never carry it.
"""

from __future__ import annotations

import re
from typing import Any, Mapping

import attrs


class _Absent:
    """A field the document leaves out (as opposed to one it writes as null)."""

    _instance = None

    def __new__(cls):
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "ABSENT"

    def __bool__(self) -> bool:
        return False


ABSENT: Any = _Absent()

step = attrs.frozen(kw_only=True, eq=True, hash=False)


def _json(kind: str, fields: Mapping[str, Any]) -> dict:
    return {"kind": kind, **{k: v for k, v in fields.items() if v is not ABSENT}}


# ---- where a line comes from ----------------------------------------------------------------
@step
class Rule:
    """The contract text a trail applies: a goal's, or (goal None) a flag's, metric's or figure's. The document
    names it by `rule`, its id in the document's `rules` table (`goal:<id>`, `flag:<id>` …); a document from an
    older engine held the `text` in the step instead."""
    goal: str | None
    clause: str | None
    rule: str | None = None
    text: str = ""
    version: Any = ABSENT  # in a contract with versions: the number of the version that settles the line

    def to_json(self) -> dict:
        if self.rule is not None:
            return _json("rule", {"goal": self.goal, "clause": self.clause, "rule": self.rule, "version": self.version})
        return _json("rule", {"goal": self.goal, "clause": self.clause, "text": self.text})


@step
class Subject:
    """Who the line is for: a person or household (facts: start, stay, age) or a cohort (start, group sizes)."""
    subject: str
    level: str
    household: str | None
    facts: Mapping | None
    said: str | None = None

    def to_json(self) -> dict:
        detail = self.said if self.said is not None else subject_prose(self.facts)
        return _json("subject", {"subject": self.subject, "level": self.level, "household": self.household,
                                 "detail": detail, "facts": ABSENT if self.facts is None else dict(self.facts)})


@step
class Input:
    """One ledger row read."""
    file: str
    line: int
    subject: str
    measure: str
    point: str
    value: str

    def to_json(self) -> dict:
        return _json("input", attrs.asdict(self))


@step
class Missing:
    """A value with no ledger row: a due one (no facts), or, read outside a goal, a point not yet due
    (facts: the point's `date` and the `limit` it had to fall by)."""
    subject: str
    measure: str
    point: str
    facts: Any = ABSENT

    def to_json(self) -> dict:
        return _json("missing", {"subject": self.subject, "measure": self.measure, "point": self.point,
                                 "facts": self.facts if self.facts is ABSENT else dict(self.facts)})


# ---- values -----------------------------------------------------------------------------------
@step
class Value:
    """A named value and the contract text that computed it: a `let`, the `outcome`, a figure's own value."""
    name: str
    expr: str
    value: str
    point: Any = ABSENT

    def to_json(self) -> dict:
        return _json("value", attrs.asdict(self))


@step
class Price:
    """The price of one unit of outcome, read for this line (`pay <expr> per …`)."""
    expr: str
    value: str
    point: Any = ABSENT

    def to_json(self) -> dict:
        return _json("value", {"name": "rate", "expr": self.expr, "value": self.value, "point": self.point})


@step
class Reference:
    """A figure or metric used by name (`of` is `figure` or `metric`; a metric's value is its share in percent)."""
    of: str
    name: str
    value: str

    def to_json(self) -> dict:
        return _json("value", {"name": self.name, "expr": f"{self.of} {self.name}", "value": self.value})


@step
class Lookup:
    """A table cell: `table.column[key]`, the row's label."""
    table: str
    column: str
    key: str
    row: str
    value: str

    def to_json(self) -> dict:
        return _json("value", {"name": f"{self.table}.{self.column}[{self.key}]",
                               "expr": f"table {self.table}, row {self.row}", "value": self.value,
                               "facts": {"table": self.table, "column": self.column, "key": self.key, "row": self.row}})


@step
class Previous:
    """`previous(measure)`: the latest observation before a point, or (observed_at None) the default."""
    measure: str
    before: str
    observed_at: str | None
    value: str

    def to_json(self) -> dict:
        expr = (f"latest observed {self.measure} before {self.before}: at {self.observed_at}"
                if self.observed_at is not None else
                f"no {self.measure} observed before {self.before}; the default applies")
        return _json("value", {"name": f"previous({self.measure})", "value": self.value, "expr": expr,
                               "point": self.before,
                               "facts": {"measure": self.measure, "before": self.before, "observed_at": self.observed_at}})


@step
class GroupMean:
    """A comparison group's mean of a measure at a point; `weight`: the attribute each subject counts by in it
    (`weighted by`), if any."""
    group: str
    point: str
    measure: str
    observed: int
    subjects: int
    value: str
    weight: Any = ABSENT

    def to_json(self) -> dict:
        how = "mean" if self.weight is ABSENT else f"mean weighted by {self.weight}"
        return _json("compute", {
            "name": f"{self.group} mean at {self.point}",
            "expr": f"{how} of {self.observed} observed {self.measure} of {self.subjects} {self.group} subjects",
            "value": self.value, "point": self.point,
            "facts": {"group": self.group, "point": self.point, "measure": self.measure, "observed": self.observed,
                      "subjects": self.subjects, **({} if self.weight is ABSENT else {"weight": self.weight})}})


@step
class Share:
    """A metric's share: count of subjects × 100, in percent."""
    count: int
    subjects: int
    level: str
    value: str

    def to_json(self) -> dict:
        return _json("compute", {"name": "share", "expr": f"{self.count} of {self.subjects} {self.level} × 100",
                                 "value": self.value,
                                 "facts": {"count": self.count, "subjects": self.subjects, "level": self.level}})


@step
class Gap:
    """A metric's rounded share less its target, in percentage points."""
    rounded: str
    target: str
    value: str

    def to_json(self) -> dict:
        return _json("compute", {"name": "gap to target", "value": self.value,
                                 "expr": f"{self.rounded} − {self.target} (percentage points)",
                                 "facts": {"rounded": self.rounded, "target": self.target}})


@step
class Compute:
    """Arithmetic shown with its numbers (`(7.50 - 9.50) / 9.50 * 100`); older documents only."""
    expr: str
    value: str
    name: Any = ABSENT
    point: Any = ABSENT
    facts: Any = ABSENT

    def to_json(self) -> dict:
        return _json("compute", attrs.asdict(self))


@step
class Aggregate:
    """`total(measure)` or `mean(measure)` over the counting intervention subjects' rows at a point."""
    func: str
    measure: str
    point: str
    observations: int
    file: str
    lines: tuple
    value: str

    def to_json(self) -> dict:
        return _json("aggregate", {**attrs.asdict(self), "lines": list(self.lines)})


# ---- money ------------------------------------------------------------------------------------
@step
class Round:
    """A rounding rule applied: the line rounding, `round(x, rule)` or a metric's rounding."""
    rule: str
    places: int
    mode: str
    before: str
    after: str
    clause: str | None
    point: Any = ABSENT

    def to_json(self) -> dict:
        return _json("round", attrs.asdict(self))


@step
class Impute:
    """A missing outcome replaced (by the mean of the observed, or zero) under the goal's `missing` rule.

    facts: why the value is missing (`missing`: `ended` or `no_row`, with the household's end) and the
    `except replaced` exemption (`exemption`: `replaced` or `not_replaced`)."""
    mean: str
    observations: int
    clause: str | None
    facts: Any = ABSENT
    method: Any = ABSENT
    point: Any = ABSENT
    said: tuple[str, str | None] | None = None  # (reason, exemption) of an older document without facts

    def to_json(self) -> dict:
        reason, exemption = self.said if self.said is not None else (missing_prose(self.facts),
                                                                     exemption_prose(self.facts))
        return _json("impute", {"reason": reason, "mean": self.mean, "observations": self.observations,
                                "method": self.method, "exemption": exemption, "clause": self.clause,
                                "point": self.point, "facts": self.facts if self.facts is ABSENT else dict(self.facts)})


@step
class Payment:
    """outcome × price = exact, rounded to value."""
    outcome: str
    rate: str
    per: str
    exact: str
    value: str

    def to_json(self) -> dict:
        return _json("payment", attrs.asdict(self))


@step
class Cap:
    """A cap applied: a goal's or payer's (per whole contract, year or subject: `period`), or `return`; `assumed`:
    the contract's `assumed "…"` text when its amount is one the original does not give."""
    cap: str
    limit: str
    running_before: str
    before: str
    after: str
    clause: str | None
    assumed: Any = ABSENT
    per: Any = ABSENT
    period: Any = ABSENT

    def to_json(self) -> dict:
        return _json("cap", attrs.asdict(self))


@step
class Tranche:
    """The part of a line that falls in one tranche, and its split between the tranche's parties."""
    tranche: int
    amount: str
    pool_before: str
    shares: Mapping
    split: Mapping
    remainder: Any
    clause: str | None
    until: Any = ABSENT
    rounding: Any = ABSENT

    def to_json(self) -> dict:
        return _json("tranche", {**attrs.asdict(self), "shares": dict(self.shares), "split": dict(self.split)})


@step
class Tiers:
    """A line priced by its goal's tiers: the units of the goal before it, its own, and each part of them at its
    tier's price (`beyond`, `upto`: the tier's bounds, null at either end), summed to `exact`."""
    goal: str
    units_before: str
    outcome: str
    parts: tuple
    exact: str
    clause: str | None

    def to_json(self) -> dict:
        return _json("tiers", {**attrs.asdict(self), "parts": [dict(p) for p in self.parts]})


@step
class Floor:
    """`floor per period`: the payer's lines of the period add up to `sum` (with what an earlier period carried in,
    `carried_in`); a negative period's lines are set to nothing, and a carried shortfall reduces the next's."""
    rule: str
    payer: str
    period: str
    sum: str
    carried_in: str
    before: str
    after: str
    clause: str | None

    def to_json(self) -> dict:
        return _json("floor", attrs.asdict(self))


@step
class PayerShare:
    """A line of a goal with several payers: one payer's `percent` of the line's amount `of` is `amount` (`rest`:
    the last payer, who takes what the others' rounded shares leave)."""
    payer: str
    percent: str
    of: str
    amount: str
    rest: bool
    clause: str | None

    def to_json(self) -> dict:
        return _json("payer_share", attrs.asdict(self))


@step
class Replaces:
    """`replaces G`: the line's amount `before`, less what G's lines `paid` the subject, is `after`."""
    goal: str
    paid: str
    before: str
    after: str
    clause: str | None

    def to_json(self) -> dict:
        return _json("replaces", attrs.asdict(self))


# ---- payments made and adjustments (account.py) ---------------------------------------------------
@step
class Entitlement:
    """What a period is worth to a recipient from a payer now: the sum of its lines' shares."""
    period: str
    payer: str
    recipient: str
    amount: str
    lines: int

    def to_json(self) -> dict:
        return _json("entitlement", attrs.asdict(self))


@step
class Moved:
    """A line whose share for the recipient is not what the previous settlement (`was`, null: no such line) said."""
    line: str
    was: str | None
    now: str | None

    def to_json(self) -> dict:
        return _json("moved", attrs.asdict(self))


@step
class Paid:
    """A payment made, as payments.csv records it."""
    file: str
    line: int
    amount: str
    paid_on: str
    reference: str

    def to_json(self) -> dict:
        return _json("paid", attrs.asdict(self))


@step
class Adjust:
    """The adjustment rule applied to a paid period: `status` (ADJUSTMENT_STATUSES) and the date that decides it
    (`until`: locked after it; `once`: held until it), and what is to be paid now."""
    rule: str
    status: str
    date: str | None
    entitlement: str
    paid: str
    amount: str
    clause: str | None

    def to_json(self) -> dict:
        return _json("adjust", attrs.asdict(self))


#: How a period's account stands: still running on the settlement date (nothing to pay yet); ended and not paid
#: (paid in full now); paid and trued up at each settlement; paid and adjusted until a date (open), or past it
#: (locked); paid and awaiting the date of the reconciliation (awaiting), or at or past it (reconciled).
ADJUSTMENT_STATUSES = ("running", "unpaid", "trued_up", "open", "locked", "awaiting", "reconciled")


# ---- flags and notes --------------------------------------------------------------------------
@step
class Flag:
    """A flag's condition held."""
    flag: str
    condition: str
    value: str
    details: Any = ABSENT
    threshold: Any = ABSENT

    def to_json(self) -> dict:
        return _json("flag", {**attrs.asdict(self), "details": self.details if self.details is ABSENT
                              else dict(self.details)})


NOTE_CODES = ("share_missing", "no_group_mean", "division_by_zero", "no_observations_imputed",
              "no_observations_cohort")


@step
class Note:
    """Something a reader must know: a `code` with its facts (NOTE_CODES), or, without a code, a text."""
    code: Any = ABSENT
    facts: Any = ABSENT
    said: str | None = None

    def to_json(self) -> dict:
        text = self.said if self.said is not None else note_prose(self.code, self.facts)
        return _json("note", {"text": text, "code": self.code,
                              "facts": self.facts if self.facts is ABSENT else dict(self.facts)})


STEPS = (Rule, Subject, Input, Missing, Value, Price, Reference, Lookup, Previous, GroupMean, Share, Gap, Compute,
         Aggregate, Round, Impute, Payment, Tiers, Replaces, PayerShare, Cap, Floor, Tranche, Entitlement, Moved, Paid, Adjust,
         Flag, Note)
Step = Any  # one of STEPS


# ---- the English prose the document keeps beside the facts -----------------------------------
def subject_prose(facts: Mapping | None) -> str:
    if not facts:
        return ""
    if "cohort_start" in facts:
        groups = ", ".join(f"{g['subjects']} {g['group']} subjects" for g in facts["groups"])
        return f"cohort {facts['cohort']} started {facts['cohort_start']}; {groups}"
    months = facts["stay_months"]
    if "stay_reached" in facts:
        text = f"started {facts['start']}; stay reached {months} months on {facts['stay_reached']}"
    else:
        text = f"started {facts['start']}; stay ended {facts['stay_end']} before reaching {months} months ({facts['needed']})"
    if "age" in facts:
        text += f"; age {facts['age']} at the household's start"
    return text


def missing_prose(facts) -> str:
    if facts.get("missing") == "ended":
        return (f"household {facts['household']} ended ({facts['end_reason']}) on {facts['end']}, "
                f"before the point ({facts['point_date']})")
    return "no measurement row for a due point"


def exemption_prose(facts) -> str | None:
    if facts.get("exemption") == "replaced":
        return f"household replaced by {facts['replaced_by']} (no correction)"
    if facts.get("exemption") == "not_replaced":
        return "household not replaced: the exemption does not apply"
    return None


def note_prose(code, facts) -> str:
    if code == "share_missing":
        return (f"{facts['missing']} {facts['level']} without an observed value are left out of the share: "
                f"{', '.join(facts['subjects'])}")
    if code == "no_group_mean":
        return "a group had no observed subject; this point pays nothing"
    if code == "division_by_zero":   # in a cohort's line (it pays nothing) or a figure (it has no value)
        return f"{facts['expr']} divides by zero; " + ("this point pays nothing" if "cohort" in facts
                                                       else "the figure has no value")
    if code == "no_observations_imputed":
        return f"no subject observed for {facts['goal']} at {facts['point']}; imputed 0"
    if code == "no_observations_cohort":
        return f"cohort {facts['cohort']} at {facts['point']}: a group mean could not be formed; nothing is paid"
    raise ValueError(f"a note without a text needs one of the codes {NOTE_CODES}, not {code!r}")


# ---- reading a document's steps ---------------------------------------------------------------
class StepError(ValueError):
    """A step of a settlement document that is not one of the documented kinds."""


def _opt(d: Mapping, key: str):
    return d[key] if key in d else ABSENT


_LOOKUP_NAME = re.compile(r"(?P<table>[^.\[\]]+)\.(?P<column>[^.\[\]]+)\[(?P<key>.*)\]")


def _value(d: Mapping) -> Step:
    name, expr, value = d["name"], d["expr"], d["value"]
    facts = d.get("facts") if isinstance(d.get("facts"), Mapping) else {}
    if {"measure", "before", "observed_at"} <= facts.keys():
        return Previous(measure=facts["measure"], before=facts["before"], observed_at=facts["observed_at"], value=value)
    if {"table", "column", "key", "row"} <= facts.keys():
        return Lookup(table=facts["table"], column=facts["column"], key=facts["key"], row=facts["row"], value=value)
    m = _LOOKUP_NAME.fullmatch(str(name))
    if m and not facts and str(expr).startswith(f"table {m['table']}, row "):  # an older document: no facts
        return Lookup(table=m["table"], column=m["column"], key=m["key"], row=expr[len(f"table {m['table']}, row "):],
                      value=value)
    if name == "rate":
        return Price(expr=expr, value=value, point=_opt(d, "point"))
    if "point" not in d and expr in (f"figure {name}", f"metric {name}"):
        return Reference(of=expr.split(" ", 1)[0], name=name, value=value)
    return Value(name=name, expr=expr, value=value, point=_opt(d, "point"))


def _compute(d: Mapping) -> Step:
    facts = d.get("facts") if isinstance(d.get("facts"), Mapping) else {}
    if {"group", "point", "measure", "observed", "subjects"} <= facts.keys():
        return GroupMean(group=facts["group"], point=facts["point"], measure=facts["measure"],
                         observed=facts["observed"], subjects=facts["subjects"], value=d["value"],
                         weight=_opt(facts, "weight"))
    if {"count", "subjects", "level"} <= facts.keys():
        return Share(count=facts["count"], subjects=facts["subjects"], level=facts["level"], value=d["value"])
    if {"rounded", "target"} <= facts.keys():
        return Gap(rounded=facts["rounded"], target=facts["target"], value=d["value"])
    return Compute(expr=d["expr"], value=d["value"], name=_opt(d, "name"), point=_opt(d, "point"),
                   facts=_opt(d, "facts"))


def _impute(d: Mapping) -> Impute:
    facts = _opt(d, "facts")
    said = (d.get("reason"), d.get("exemption"))
    if isinstance(facts, Mapping) and _made(lambda: (missing_prose(facts), exemption_prose(facts))) == said:
        said = None
    return Impute(mean=d["mean"], observations=d["observations"], clause=d.get("clause"), facts=facts,
                  method=_opt(d, "method"), point=_opt(d, "point"), said=said)


def _note(d: Mapping) -> Note:
    code, facts = _opt(d, "code"), _opt(d, "facts")
    said = d.get("text", "")
    if code in NOTE_CODES and isinstance(facts, Mapping) and _made(lambda: note_prose(code, facts)) == said:
        said = None
    return Note(code=code, facts=facts, said=said)


def _made(prose):
    """The prose `to_json` would write from a document's facts, or None where they do not give one."""
    try:
        return prose()
    except (KeyError, TypeError, ValueError, AttributeError):
        return None


def _subject(d: Mapping) -> Subject:
    facts = d.get("facts") if isinstance(d.get("facts"), Mapping) else None
    said = None if facts is not None and _made(lambda: subject_prose(facts)) == d.get("detail") else d.get("detail")
    return Subject(subject=d["subject"], level=d["level"], household=d.get("household"), facts=facts, said=said)


_READERS = {
    "rule": lambda d: Rule(goal=d.get("goal"), clause=d.get("clause"), rule=d.get("rule"), text=d.get("text", ""),
                           version=_opt(d, "version")),
    "subject": _subject,
    "input": lambda d: Input(file=d["file"], line=d["line"], subject=d["subject"], measure=d["measure"],
                             point=d["point"], value=d["value"]),
    "missing": lambda d: Missing(subject=d["subject"], measure=d["measure"], point=d["point"], facts=_opt(d, "facts")),
    "value": _value,
    "compute": _compute,
    "aggregate": lambda d: Aggregate(func=d["func"], measure=d["measure"], point=d["point"],
                                     observations=d["observations"], file=d["file"], lines=tuple(d.get("lines") or ()),
                                     value=d["value"]),
    "round": lambda d: Round(rule=d["rule"], places=d["places"], mode=d["mode"], before=d["before"], after=d["after"],
                             clause=d.get("clause"), point=_opt(d, "point")),
    "impute": _impute,
    "payment": lambda d: Payment(outcome=d["outcome"], rate=d["rate"], per=d["per"], exact=d["exact"], value=d["value"]),
    "cap": lambda d: Cap(cap=d["cap"], limit=d["limit"], running_before=d["running_before"], before=d["before"],
                         after=d["after"], clause=d.get("clause"), assumed=_opt(d, "assumed"), per=_opt(d, "per"),
                         period=_opt(d, "period")),
    "tranche": lambda d: Tranche(tranche=d["tranche"], amount=d["amount"], pool_before=d["pool_before"],
                                 shares=d.get("shares") or {}, split=d.get("split") or {}, remainder=d.get("remainder"),
                                 clause=d.get("clause"), until=_opt(d, "until"), rounding=_opt(d, "rounding")),
    "tiers": lambda d: Tiers(goal=d["goal"], units_before=d["units_before"], outcome=d["outcome"],
                             parts=tuple(d.get("parts") or ()), exact=d["exact"], clause=d.get("clause")),
    "floor": lambda d: Floor(rule=d["rule"], payer=d["payer"], period=d["period"], sum=d["sum"],
                             carried_in=d["carried_in"], before=d["before"], after=d["after"], clause=d.get("clause")),
    "payer_share": lambda d: PayerShare(payer=d["payer"], percent=d["percent"], of=d["of"], amount=d["amount"],
                                        rest=bool(d.get("rest")), clause=d.get("clause")),
    "replaces": lambda d: Replaces(goal=d["goal"], paid=d["paid"], before=d["before"], after=d["after"],
                                   clause=d.get("clause")),
    "entitlement": lambda d: Entitlement(period=d["period"], payer=d["payer"], recipient=d["recipient"],
                                         amount=d["amount"], lines=d["lines"]),
    "moved": lambda d: Moved(line=d["line"], was=d.get("was"), now=d.get("now")),
    "paid": lambda d: Paid(file=d["file"], line=d["line"], amount=d["amount"], paid_on=d["paid_on"],
                           reference=d.get("reference") or ""),
    "adjust": lambda d: Adjust(rule=d["rule"], status=d["status"], date=d.get("date"), entitlement=d["entitlement"],
                               paid=d["paid"], amount=d["amount"], clause=d.get("clause")),
    "flag": lambda d: Flag(flag=d["flag"], condition=d["condition"], value=d["value"], details=_opt(d, "details"),
                           threshold=_opt(d, "threshold")),
    "note": _note,
}


def from_json(d: Mapping) -> Step:
    """A document's step as its class. StepError: not a step of a documented kind, or a field missing."""
    if not isinstance(d, Mapping):
        raise StepError(f"a step is an object, not {type(d).__name__}")
    reader = _READERS.get(d.get("kind"))
    if reader is None:
        raise StepError(f"unknown kind of step {d.get('kind')!r}")
    try:
        return reader(d)
    except (KeyError, TypeError, AttributeError) as e:
        raise StepError(f"a {d.get('kind')} step without {e}") from None


def as_step(x) -> Step:
    """A step, typed: a step object as it is, a document's step (a dict) read by `from_json`."""
    return from_json(x) if isinstance(x, Mapping) else x


def to_json(s: Step) -> dict:
    return s.to_json()


def assumed(amount) -> dict:
    """The `assumed` field of a cap's step: the contract's text for an amount it marks as assumed (`assumed` alone
    when it gives none), or nothing. Both evaluators write it."""
    return {"assumed": amount.assumption} if amount.assumption is not None else {}
