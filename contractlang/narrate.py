"""narrate: a trail's steps in words, English or Danish, written once per kind of step.

Each class of `trace` has one narrator here; `describe_step` picks it by the step's
class. A step read from a settlement document (a dict) is typed by `trace.from_json`
first, so reports say the same of a settlement computed in this process and of one
read from a file. The words come from `i18n.CATALOGUE`, numbers and dates from the
`i18n.Formatter` (Babel), the markup from the report's `Plain`/`MARKDOWN`/`HTML`.
"""

from __future__ import annotations

import re
from typing import Callable

from . import trace as t
from .i18n import (CATALOGUE, PLAIN, Formatter, Plain, _FACT_ERRORS, _day, _owner_of, _say, cap_per, detail_value,
                   exemption_text, goals_by_id, is_number, key_label, missing_text, row_list, stay_text, to_decimal,
                   without_empty_clause)


class _Say:
    """What every narrator needs: the document, the language, the markup, and the wording helpers."""

    def __init__(self, doc: dict, fx: Formatter, mk: Plain, rule_text: bool, owner: str | None):
        self.doc, self.fx, self.mk, self.rule_text, self.owner = doc, fx, mk, rule_text, owner
        self.code = mk.code

    def __call__(self, key: str, **kw) -> str:
        return self.mk.tpl(without_empty_clause(self.fx.raw(key), kw)).format(**kw)

    def money(self, v) -> str:
        return self.mk.esc(self.fx.money(v)) if v is not None else self.mk.esc(self.fx.t("none"))

    def num(self, v) -> str:
        return self.mk.esc(self.fx.num(v)) if is_number(v) and not isinstance(v, int) else self.mk.esc(self.fx.value(v))

    def val(self, v) -> str:
        return self.num(v) if is_number(v) else self.code(str(v))

    def clause(self, v) -> str:
        return self.mk.esc(self.fx.clause(v))

    def at(self, point, name: str = "") -> str:
        """` at m12`, unless there is no point or the name already says it."""
        if point is t.ABSENT or not point or str(point) in name:
            return ""
        return self("step.at", point=self.code(str(point)))


def subject_detail(step: t.Subject, fx: Formatter, mk: Plain = PLAIN) -> str:
    """Why a subject counts (start, stay, age; a cohort's start and group sizes), from its facts."""
    facts = step.facts
    if facts:
        try:
            if "cohort_start" in facts:
                groups = ", ".join(_say(fx, mk, "fact.cohort_group", n=mk.esc(fx.count(g["subjects"])),
                                        group=mk.code(str(g["group"]))) for g in facts["groups"])
                return _say(fx, mk, "fact.cohort", cohort=mk.code(str(facts["cohort"])),
                            start=_day(fx, mk, facts["cohort_start"]), groups=groups)
            text = stay_text(facts, fx, mk)
            if "age" in facts:
                text += _say(fx, mk, "fact.age", age=mk.esc(fx.count(facts["age"])))
            return text
        except _FACT_ERRORS:
            pass
    return mk.esc(str(step.to_json().get("detail") or ""))


def _rule(s: t.Rule, say: _Say):
    text = s.text or (say.doc.get("rules") or {}).get(s.rule) or ""  # by id from the document's table
    if s.goal:
        title = goals_by_id(say.doc).get(s.goal, {}).get("title") or ""
        key = "step.rule" if say.rule_text or s.version is not t.ABSENT else "step.rule_see"
        sentence = say(key, goal=say.code(s.goal), title=say.mk.esc(title), clause=say.clause(s.clause))
        if s.version is not t.ABSENT:  # a contract with versions: which one settles the line (its own text)
            sentence += " " + _version(s.version, say)
        return sentence, text if say.rule_text or s.version is not t.ABSENT else None
    owner = say.owner or (s.rule.split(":", 1)[0] if s.rule else _owner_of(text))
    key = {"flag": "step.rule_flag", "metric": "step.rule_metric", "figure": "step.rule_figure"}.get(owner, "step.rule_other")
    return say(key, clause=say.clause(s.clause)), text


def _version(number, say: _Say) -> str:
    """Which version of the contract settles a line, and for which dates (the document's `versions`)."""
    v = next((x for x in say.doc.get("versions") or () if x.get("version") == number), {})
    start, until = v.get("from"), v.get("until")
    key = "version_between" if start and until else "version_from" if start else "version_before" if until else "version_all"
    when = say(key, start=_day(say.fx, say.mk, start) if start else "", until=_day(say.fx, say.mk, until) if until else "")
    return say("step.rule_version", version=say.mk.esc(str(number)), path=say.code(str(v.get("path") or "")), when=when)


def _subject(s: t.Subject, say: _Say):
    hh = s.household
    part = say("step.subject_household", household=say.code(hh)) if hh and hh != s.subject else ""
    return say("step.subject", level=say.mk.esc(say.fx.code("level", s.level)), subject=say.code(str(s.subject)),
               household=part, detail=subject_detail(s, say.fx, say.mk)), None


def _input(s: t.Input, say: _Say):
    code = say.code
    return say("step.input", file=code(str(s.file)), line=say.mk.esc(str(s.line)), measure=code(str(s.measure)),
               subject=code(str(s.subject)), point=code(str(s.point)), value=say.val(s.value)), None


def _missing(s: t.Missing, say: _Say):
    facts = s.facts if isinstance(s.facts, dict) else {}
    if "date" in facts and "limit" in facts:   # a point not yet due, read outside a goal
        return say("step.missing_not_due", measure=say.code(str(s.measure)), subject=say.code(str(s.subject)),
                   point=say.code(str(s.point)), date=_day(say.fx, say.mk, facts["date"]),
                   limit=_day(say.fx, say.mk, facts["limit"])), None
    return say("step.missing", measure=say.code(str(s.measure)), subject=say.code(str(s.subject)),
               point=say.code(str(s.point))), None


def _value(s: t.Value, say: _Say):
    return say("step.value", name=say.code(s.name), at=say.at(s.point, s.name), value=say.val(s.value),
               expr=say.code(s.expr)), None


def _price(s: t.Price, say: _Say):
    value = s.value
    shown = say.money(value) if is_number(value) and not str(value).endswith("…") else say.val(value)
    return say("step.rate", at=say.at(s.point, "rate"), value=shown, expr=say.code(s.expr)), None


def _reference(s: t.Reference, say: _Say):
    if s.of == "metric":
        shown = say.mk.esc(say.fx.pct(s.value)) if is_number(s.value) else say.mk.esc(say.fx.value(s.value))
        return say("step.value_metric", name=say.code(s.name), value=shown), None
    return say("step.value_figure", name=say.code(s.name), value=say.val(s.value)), None


def _lookup(s: t.Lookup, say: _Say):
    return say("step.lookup", name=say.code(f"{s.table}.{s.column}[{s.key}]"), at="", value=say.val(s.value),
               table=say.code(str(s.table)), row=say.mk.esc(str(s.row))), None


def _previous(s: t.Previous, say: _Say):
    name = f"previous({s.measure})"
    kw = dict(name=say.code(name), at=say.at(s.before, name), value=say.val(s.value), measure=say.code(str(s.measure)),
              before=say.code(str(s.before)))
    if s.observed_at is None:
        return say("step.previous_default", **kw), None
    return say("step.previous", observed_at=say.code(str(s.observed_at)), **kw), None


def _group_mean(s: t.GroupMean, say: _Say):
    weighted = "" if s.weight is t.ABSENT else say("step.group_mean_weighted", weight=say.code(str(s.weight)))
    return say("step.group_mean", group=say.code(str(s.group)), point=say.code(str(s.point)),
               observed=say.mk.esc(say.fx.count(s.observed)), measure=say.code(str(s.measure)),
               subjects=say.mk.esc(say.fx.count(s.subjects)), value=say.num(s.value), weighted=weighted), None


def _share(s: t.Share, say: _Say):
    pct = say.mk.esc(say.fx.pct(s.value)) if is_number(s.value) else say.mk.esc(say.fx.value(s.value))
    return say("step.share", count=say.mk.esc(say.fx.count(s.count)), subjects=say.mk.esc(say.fx.count(s.subjects)),
               level=say.mk.esc(say.fx.code("plural", s.level)), value=pct), None


def _gap(s: t.Gap, say: _Say):
    return say("step.gap", rounded=say.val(s.rounded), target=say.val(s.target), value=say.val(s.value)), None


def _compute(s: t.Compute, say: _Say):
    expr = say.code(say.fx.expr(s.expr))
    if s.name:
        return say("step.compute_named", name=say.code(str(s.name)), at=say.at(s.point, str(s.name)), expr=expr,
                   value=say.num(s.value)), None
    return say("step.compute", expr=expr, value=say.num(s.value)), None


def _aggregate(s: t.Aggregate, say: _Say):
    key = {"total": "step.aggregate_total", "mean": "step.aggregate_mean"}.get(s.func, "step.aggregate_other")
    return say(key, func=say.code(s.func), measure=say.code(str(s.measure)), at=say.at(s.point),
               observations=say.mk.esc(say.fx.value(s.observations)), file=say.code(str(s.file)),
               rows=say.mk.esc(row_list(s.lines, say.fx)), value=say.val(s.value)), None


def _round(s: t.Round, say: _Say):
    fx, esc = say.fx, say.mk.esc
    return say("step.round", at=say.at(s.point), before=say.num(s.before), after=say.num(s.after),
               places=esc(fx.value(s.places)), decimals=esc(fx.plural(s.places, "decimal", "decimals")),
               mode=esc(fx.code("mode", s.mode)), rule=say.code(str(s.rule)), clause=say.clause(s.clause)), None


def _impute(s: t.Impute, say: _Say):
    fx, mk = say.fx, say.mk
    prose = s.to_json()
    reason = mk.esc(fx.code("reason", prose.get("reason")))
    exemption = mk.esc(fx.code("reason", prose["exemption"])) if prose.get("exemption") else None
    if isinstance(s.facts, dict):
        try:
            reason, exemption = missing_text(s.facts, fx, mk), exemption_text(s.facts, fx, mk)
        except _FACT_ERRORS:
            pass
    text = say("step.impute", at=say.at(s.point), reason=reason, mean=say.num(s.mean),
               observations=mk.esc(fx.value(s.observations)), clause=say.clause(s.clause))
    if s.method not in (t.ABSENT, None, "mean"):
        text += say("step.impute_method", method=say.code(str(s.method)))
    if exemption:
        text += say("step.impute_exemption", exemption=exemption)
    return text, None


def _payment(s: t.Payment, say: _Say):
    return say("step.payment", outcome=say.num(s.outcome), rate=say.money(s.rate),
               per=say.mk.esc(say.fx.code("per", s.per)), exact=say.num(s.exact), value=say.money(s.value)), None


def _cap(s: t.Cap, say: _Say):
    doc, code, clause = say.doc, say.code, say.clause(s.clause)
    if s.cap == "return":
        payer = (doc.get("return_cap") or {}).get("payer", "")
        head = say("step.cap_return", payer=code(str(payer)), limit=say.money(s.limit), clause=clause)
    elif s.cap not in goals_by_id(doc) and s.cap in (doc.get("parties") or {}):
        head = say("step.cap_payer_per" if s.per else "step.cap_payer", payer=code(str(s.cap)),
                   per=say.mk.esc(cap_per(s.per or None, say.fx)), period=code(str(s.period or None)),
                   limit=say.money(s.limit), clause=clause)
    elif s.per:
        head = say("step.cap_goal_per", cap=code(str(s.cap)), per=say.mk.esc(cap_per(s.per, say.fx)),
                   period=code(str(s.period or None)), limit=say.money(s.limit), clause=clause)
    else:
        head = say("step.cap_goal", cap=code(str(s.cap)), limit=say.money(s.limit), clause=clause)
    if s.assumed is not t.ABSENT:  # an amount the original does not give: the contract's reason, every time
        head += " " + (say("step.cap_assumed_bare") if s.assumed == "assumed"
                       else say("step.cap_assumed", text=say.mk.esc(str(s.assumed))))
    same = to_decimal(s.before) == to_decimal(s.after)
    tail = say("step.cap_within" if same else "step.cap_cut", running=say.money(s.running_before),
               before=say.money(s.before), after=say.money(s.after))
    return f"{head} {tail}", None


def _tranche(s: t.Tranche, say: _Say):
    code, mk, fx = say.code, say.mk, say.fx
    until = s.until if s.until is not t.ABSENT else next(
        (x.get("until") for x in say.doc.get("tranches", []) if x.get("number") == s.tranche), None)
    shares = s.shares or {}
    text = say("step.tranche", tranche=mk.esc(str(s.tranche)),
               until=say("step.tranche_until", until=say.money(until)) if until is not None else "",
               clause=say.clause(s.clause), amount=say.money(s.amount), pool_before=say.money(s.pool_before),
               split="; ".join(f"{code(p)} {mk.esc(fx.pct(shares[p])) + ' = ' if p in shares else ''}{say.money(v)}"
                               for p, v in (s.split or {}).items()))
    rem = s.remainder
    if rem is not None and len(shares) > 1:
        if isinstance(rem, dict):
            rem = "; ".join(f"{code(str(k))} {say.money(v) if fx.is_amount(v) else mk.esc(str(v))}" for k, v in rem.items())
        elif fx.is_amount(rem):
            rem = say.money(rem)
        else:
            rem = code(str(rem))
        text += say("step.tranche_remainder", remainder=rem)
    return text, None


def _tiers(s: t.Tiers, say: _Say):
    def part(p) -> str:
        if p.get("beyond") is None:
            bound = say("step.tier_upto", upto=say.num(p["upto"])) if p.get("upto") is not None else ""
        elif p.get("upto") is None:
            bound = say("step.tier_beyond", beyond=say.num(p["beyond"]))
        else:
            bound = say("step.tier_between", beyond=say.num(p["beyond"]), upto=say.num(p["upto"]))
        return say("step.tier_part", units=say.num(p["units"]), price=say.money(p["price"]), bound=bound)
    return say("step.tiers", goal=say.code(s.goal), clause=say.clause(s.clause), before=say.num(s.units_before),
               outcome=say.num(s.outcome), parts=" + ".join(part(p) for p in s.parts), exact=say.num(s.exact)), None


def _floor(s: t.Floor, say: _Say):
    key = "step.floor_negative" if to_decimal(s.sum) < 0 else "step.floor_carried"
    if to_decimal(s.sum) < 0 and s.rule == "carried forward":
        key = "step.floor_negative_carried"
    return say(key, payer=say.code(s.payer), period=say.code(s.period), sum=say.money(s.sum),
               carried=say.money(s.carried_in), before=say.money(s.before), after=say.money(s.after),
               clause=say.clause(s.clause)), None


def _payer_share(s: t.PayerShare, say: _Say):
    return say("step.payer_share_rest" if s.rest else "step.payer_share", payer=say.code(s.payer),
               percent=say.mk.esc(say.fx.pct(s.percent)), of=say.money(s.of), amount=say.money(s.amount),
               clause=say.clause(s.clause)), None


def _replaces(s: t.Replaces, say: _Say):
    return say("step.replaces", goal=say.code(s.goal), clause=say.clause(s.clause), paid=say.money(s.paid),
               before=say.money(s.before), after=say.money(s.after)), None


def _entitlement(s: t.Entitlement, say: _Say):
    return say("step.entitlement", period=say.code(s.period), payer=say.code(s.payer),
               recipient=say.code(s.recipient), amount=say.money(s.amount), lines=say.mk.esc(say.fx.count(s.lines))), None


def _moved(s: t.Moved, say: _Say):
    return say("step.moved", line=say.code(s.line), was=say.money(s.was), now=say.money(s.now)), None


def _paid(s: t.Paid, say: _Say):
    reference = say("step.paid_reference", reference=say.mk.esc(s.reference)) if s.reference else ""
    return say("step.paid", amount=say.money(s.amount), paid_on=_day(say.fx, say.mk, s.paid_on),
               file=say.code(s.file), line=say.mk.esc(str(s.line)), reference=reference), None


def _adjust(s: t.Adjust, say: _Say):
    difference = to_decimal(s.entitlement) - to_decimal(s.paid) - to_decimal(s.amount)
    return say(f"step.adjust_{s.status}", date=_day(say.fx, say.mk, s.date) if s.date else "",
               clause=say.clause(s.clause), entitlement=say.money(s.entitlement), paid=say.money(s.paid),
               amount=say.money(s.amount), difference=say.money(difference)), None


def _flag(s: t.Flag, say: _Say):
    fx, mk = say.fx, say.mk
    text = say("step.flag", flag=say.code(str(s.flag)), condition=say.code(str(s.condition)),
               value=mk.esc(fx.value(s.value)))
    if s.threshold not in (t.ABSENT, None):
        text += say("step.flag_threshold", threshold=mk.esc(fx.value(s.threshold)))
    details = s.details or {}
    if details:
        text += " " + mk.esc("; ".join(f"{key_label(k, fx)}: {detail_value(k, v, fx)}" for k, v in details.items())) + "."
    return text, None


def _note_text(s: t.Note, fx: Formatter, mk: Plain) -> str | None:
    """A note with a code in words; None when it has none (its text is shown)."""
    code, facts = s.code, s.facts or {}
    if code == "share_missing":
        n = int(facts["missing"])
        level = mk.esc(fx.code("level" if n == 1 else "plural", facts["level"]))
        listed = list(facts.get("subjects") or [])
        subjects = ", ".join(mk.code(str(x)) for x in listed)
        if n > len(listed):
            subjects += mk.esc(fx.t("step.rows_more", n=fx.count(n - len(listed))))
        return _say(fx, mk, "note.share_missing_one" if n == 1 else "note.share_missing",
                    count=mk.esc(fx.count(n)), level=level, subjects=subjects)
    if code == "no_group_mean":
        return _say(fx, mk, "note.no_group_mean")
    if code == "division_by_zero":
        key = "note.division_by_zero_line" if "cohort" in facts else "note.division_by_zero_figure"
        return _say(fx, mk, key, expr=mk.code(str(facts["expr"])))
    if code == "no_observations_imputed":
        return _say(fx, mk, "note.no_observations_imputed", goal=mk.code(str(facts["goal"])), point=mk.code(str(facts["point"])))
    if code == "no_observations_cohort":
        return _say(fx, mk, "note.no_observations_cohort", cohort=mk.code(str(facts["cohort"])),
                    point=mk.code(str(facts["point"])))
    return None


def _note(s: t.Note, say: _Say):
    try:
        text = _note_text(s, say.fx, say.mk)
    except _FACT_ERRORS:
        text = None
    if text is None:
        text = say("step.note", text=say.mk.esc(str(s.to_json().get("text", ""))))
    return text, None


NARRATORS: dict[type, Callable] = {
    t.Rule: _rule, t.Subject: _subject, t.Input: _input, t.Missing: _missing, t.Value: _value, t.Price: _price,
    t.Reference: _reference, t.Lookup: _lookup, t.Previous: _previous, t.GroupMean: _group_mean, t.Share: _share,
    t.Gap: _gap, t.Compute: _compute, t.Aggregate: _aggregate, t.Round: _round, t.Impute: _impute,
    t.Payment: _payment, t.Tiers: _tiers, t.Replaces: _replaces, t.PayerShare: _payer_share, t.Cap: _cap, t.Floor: _floor,
    t.Tranche: _tranche, t.Entitlement: _entitlement, t.Moved: _moved, t.Paid: _paid, t.Adjust: _adjust,
    t.Flag: _flag, t.Note: _note,
}
assert set(NARRATORS) == set(t.STEPS), "every kind of step has its narrator"


def _unknown(step, say: _Say):
    fields = ", ".join(f"{k}={step[k]}" for k in sorted(step) if k != "kind") if isinstance(step, dict) else repr(step)
    kind = step.get("kind") if isinstance(step, dict) else type(step).__name__
    return say("step.unknown", kind=say.code(str(kind)), fields=say.mk.esc(fields)), None


_DOUBLE_STOP = re.compile(r"(?<=[.…])\.(?=\s|$)")


def describe_step(step, doc: dict, fx: Formatter, mk: Plain = PLAIN,
                  rule_text: bool = True, owner: str | None = None) -> tuple[str, str | None]:
    """One trace step as a sentence, plus a verbatim block (the contract text of a rule) or None.

    Args:
        step: a `trace` step, or a settlement document's step (a dict, docs/settlement-json.md "Steps").
        doc: the settlement document, for goal titles, parties and tranches.
        fx: the language.
        mk: the markup of the output format (PLAIN, MARKDOWN or HTML).
        rule_text: give a goal rule's contract text as the block; reports that
            show each goal's text once pass False and the sentence points there.
        owner: what a trail without a goal belongs to (`flag`, `metric`, `figure`);
            by default read from the rule's contract text.
    """
    say = _Say(doc, fx, mk, rule_text, owner)
    try:
        typed = t.as_step(step)
    except t.StepError:
        sentence, block = _unknown(step, say)
    else:
        sentence, block = NARRATORS[type(typed)](typed, say)
    return _DOUBLE_STOP.sub("", sentence), block


def step_kind(step) -> str:
    """The document's `kind` of a step (for a CSS class): `rule`, `value`, `cap`, …"""
    return step.get("kind") if isinstance(step, dict) else step.to_json()["kind"]


__all__ = ["describe_step", "subject_detail", "step_kind", "NARRATORS", "CATALOGUE"]
