"""explain: the settler's traced state → the settlement document (docs/settlement-json.md).

Nothing is computed here that could disagree with the evaluator: amounts are
summed from the lines the evaluator produced, and every trace is passed through
as it was recorded.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import os
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

from . import __version__
from . import model as m
from .expressions import money, show
from .periods import due_date, period_of

ZERO = Decimal(0)


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def build_document(s) -> dict:
    """Assemble the settlement document from a finished settler `s`; its lines are handed over."""
    c = s.c
    due_rule = c.settlement.due if c.settlement else "end of following quarter"
    totals_goal = defaultdict(Decimal)
    by_payer = defaultdict(Decimal)
    by_recipient = defaultdict(Decimal)
    periods: dict[str, dict] = {}
    lines = []
    # Each settled line is released as soon as its document line is made, so that a large
    # settlement is not held twice over.
    settled, s.lines = s.lines, []
    for index, ln in enumerate(settled):
        settled[index] = None
        name, first, last = period_of(ln["date"], c.settlement)
        totals_goal[ln["goal"]] += ln["after_goal_cap"]
        by_payer[ln["payer"]] += ln["amount"]
        for party, v in ln["split"].items():
            by_recipient[party] += v
        p = periods.get(name)
        if p is None:
            p = periods[name] = {"period": name, "start": first.isoformat(), "end": last.isoformat(),
                                 "due": due_date(last, due_rule).isoformat(), "amount": ZERO,
                                 "by_goal": defaultdict(Decimal), "by_payer": defaultdict(Decimal),
                                 "by_recipient": defaultdict(Decimal)}
        p["amount"] += ln["amount"]
        p["by_goal"][ln["goal"]] += ln["amount"]
        p["by_payer"][ln["payer"]] += ln["amount"]
        for party, v in ln["split"].items():
            p["by_recipient"][party] += v
        lines.append(line_record(ln, name))
    cumulative = ZERO
    period_list = []
    for name in sorted(periods):
        p = periods[name]
        cumulative += p["amount"]
        period_list.append({**p, "amount": money(p["amount"]), "cumulative": money(cumulative),
                            "by_goal": money_map(p["by_goal"]), "by_payer": money_map(p["by_payer"]),
                            "by_recipient": money_map(p["by_recipient"])})
    pool = sum(by_payer.values(), ZERO)
    doc = {
        **header(c, s.L.files, s.as_of, s.expr_text, s.L.directory, s.L.known_as_of),
        "totals": {
            "goals": {g.id: money(totals_goal[g.id]) for g in c.goals},
            "goal_cap_cut": {g.id: money(s.goal_cap_cut.get(g.id, ZERO)) for g in c.goals},
            "return_cap_cut": money(s.return_cap_cut),
            "by_payer": money_map(by_payer),
            "by_recipient": money_map(by_recipient),
            "pool": money(pool),
            "imputed": {g.id: s.imputed.get(g.id, 0) for g in c.goals},
            **({"floor_cut": money(s.floor_cut)} if c.settlement and c.settlement.floor else {}),
        },
        "periods": period_list,
        "flags": sorted(s.flags, key=lambda f: (f["id"], str(f["subject"]), str(sorted(f["details"].items())))),
        "lines": lines,
        "exclusions": s.exclusions,
        **_row_accounting(s),
        "reports": {"relative_reduction": reduction(c, sum(1 for h in s.households.values() if h.group == "intervention")),
                    "metrics": [public(s.named_results[x.id]) for x in c.metrics],
                    "figures": [public(s.named_results[x.id]) for x in c.figures]},
    }
    doc["margins"] = margins(doc, periodic_caps(c, s.cap_running))
    return doc


def line_record(ln: dict, period: str) -> dict:
    """A settled line (the settler's) as the document holds it, in the settlement period `period`."""
    return {"id": ln["id"], "goal": ln["goal"], "subject": ln["subject"], "point": ln["point"],
            "date": ln["date"].isoformat(), "period": period, "payer": ln["payer"],
            "outcome": show(ln["outcome"]), "gross": money(ln["gross"]),
            "after_goal_cap": money(ln["after_goal_cap"]), "amount": money(ln["amount"]),
            "imputed": ln["imputed"], "cut": ln["cut"], "tranche": ln["tranche"],
            "split": {k: money(v) for k, v in sorted(ln["split"].items())},
            "trace": ln["trace"] or []}


def declaration_text(c: m.Contract, node) -> str:
    """The whole source lines of a declaration (a goal, flag, figure or metric as the contract states it)."""
    if node.span is None or not c.source:
        return ""
    lines = c.source.splitlines()
    return "\n".join(lines[node.span.line - 1:(node.span.end_line or node.span.line)])


def rule_step(kind: str, node) -> dict:
    """The first step of a trail: the declaration it applies, by its id in the document's `rules` table."""
    return {"kind": "rule", "goal": node.id if kind == "goal" else None, "clause": node.clause,
            "rule": f"{kind}:{node.id}"}


def rules(c: m.Contract) -> dict[str, str]:
    """The document's table of rules: each goal's, flag's, figure's and metric's text, by the id its trails
    name (`goal:<id>`, `flag:<id>`, `figure:<id>`, `metric:<id>`), so that no trail repeats it."""
    kinds = (("goal", c.goals), ("flag", c.flags), ("figure", c.figures), ("metric", c.metrics))
    return {f"{kind}:{x.id}": declaration_text(c, x) for kind, items in kinds for x in items}


def header(c: m.Contract, files: list[dict], as_of: dt.date, text, directory: str | None = None,
           known_as_of: dt.date | None = None) -> dict:
    """The parts of the document that come from the contract and the inputs alone; `inputs` holds what a rerun
    needs (`contractlang verify`): the contract's path and hash, the ledger's directory and each file's hash.

    `text(expr)` gives an expression's source text (a goal priced by an expression shows it)."""
    caps = {cap.goal: cap for cap in c.caps if cap.per is None}
    goal_ids = {g.id for g in c.goals}
    rc = c.return_cap
    return {
        "engine": {"name": "contractlang", "version": __version__},
        "inputs": {"contract": {"path": display_path(c.path), "sha256": sha256_text(c.source or "")},
                   "ledger": [{"file": f["file"], "sha256": f["sha256"], "rows": f["rows"]} for f in files],
                   "ledger_directory": display_path(directory),
                   "known_as_of": known_as_of.isoformat() if known_as_of else None},
        "contract": {"id": c.id, "title": c.title, "currency": c.currency, "clause": c.clause},
        "as_of": as_of.isoformat(),
        "parties": {p.id: {"name": p.name, "role": p.role} for p in c.parties},
        "rules": rules(c),
        "goals": [{"id": g.id, "title": g.title, "clause": g.clause, "payer": g.payer,
                   "rate": _rate(g, text), "per": g.rate.per if g.rate else None,
                   "cap": money(caps[g.id].amount.value) if g.id in caps else None,
                   "caps": [{"limit": money(cap.amount.value), "per": cap.per, "clause": cap.clause,
                             "on": "goal" if cap.goal == g.id else "payer"}
                            for cap in c.caps if cap.goal == g.id or (cap.goal == g.payer and cap.goal not in goal_ids)]}
                  for g in c.goals],
        "return_cap": None if rc is None else {"payer": rc.payer, "limit": money(rc.amount.value),
                                               "goals": list(rc.goals), "clause": rc.clause},
        "tranches": [] if c.tranches is None else [
            {"number": t.number, "until": money(t.until.value) if t.until else None,
             "shares": {sh.party: show(sh.percent.value) for sh in t.shares}} for t in c.tranches.tranches],
    }


#: Subjects a margin of a cap per subject names: those nearest the cap without having reached it.
NEAREST = 3


def periodic_caps(c: m.Contract, running: dict[tuple, Decimal]) -> list[dict]:
    """The caps per year or per subject with what each let through in each year or for each subject: `running`
    maps (the cap's goal or payer, per, the year or subject) to that amount, as the evaluator kept it."""
    goal_ids = {g.id for g in c.goals}
    out = []
    for cap in c.caps:
        if cap.per is None:
            continue
        per = "subject" if cap.per == "subject" else "year"
        reached = {period: v for (owner, p, period), v in running.items() if owner == cap.goal and p == cap.per}
        out.append({"cap": cap.goal, "on": "goal" if cap.goal in goal_ids else "payer", "per": per,
                    "limit": cap.amount.value, "reached": reached})
    return out


def margins(doc: dict, periodic: list[dict] = ()) -> list[dict]:
    """How far the settlement is from each threshold that decides money or a target, from the document's own
    totals (so both evaluators give the same): each goal's cap over the whole contract and the return cap (what
    it has let through, what remains before it binds, what it cut), each tranche's switch (the pool it
    switches at, what remains), and each metric's target (the successes among the subjects with data that
    would reach it, before rounding). `periodic` (`periodic_caps`) adds each cap per year, year by year, and
    each cap per subject: how many subjects it binds for, and the `NEAREST` others nearest to it."""
    totals, out = doc.get("totals") or {}, []
    goals = totals.get("goals") or {}
    for g in doc.get("goals") or []:
        if g.get("cap") is not None:
            limit, reached = Decimal(g["cap"]), Decimal(goals.get(g["id"], "0"))
            out.append({"kind": "goal_cap", "goal": g["id"], "limit": money(limit), "reached": money(reached),
                        "remaining": money(max(limit - reached, Decimal(0)))})
    for cap in periodic:
        limit, head = cap["limit"], {"cap": cap["cap"], "on": cap["on"], "limit": money(cap["limit"])}
        if cap["per"] == "year":
            out += [{"kind": "cap_per_year", **head, "year": year, "reached": money(v),
                     "remaining": money(max(limit - v, Decimal(0)))} for year, v in sorted(cap["reached"].items())]
            continue
        reached = sorted(cap["reached"].items(), key=lambda kv: (limit - kv[1], kv[0]))
        nearest = [{"subject": sid, "reached": money(v), "remaining": money(limit - v)}
                   for sid, v in reached if v < limit][:NEAREST]
        out.append({"kind": "cap_per_subject", **head, "subjects": len(reached),
                    "bound": sum(1 for _, v in reached if v >= limit), "nearest": nearest})
    rc = doc.get("return_cap")
    if rc:
        cut = Decimal(totals.get("return_cap_cut", "0"))
        reached = sum((Decimal(goals.get(g, "0")) for g in rc.get("goals") or ()), Decimal(0)) - cut
        limit = Decimal(rc["limit"])
        out.append({"kind": "return_cap", "payer": rc["payer"], "limit": money(limit), "reached": money(reached),
                    "remaining": money(max(limit - reached, Decimal(0))), "cut": money(cut)})
    pool = Decimal(totals.get("pool", "0"))
    for t in doc.get("tranches") or []:
        if t.get("until") is not None:
            until = Decimal(t["until"])
            out.append({"kind": "tranche", "tranche": t["number"], "until": money(until), "reached": money(pool),
                        "remaining": money(max(until - pool, Decimal(0)))})
    for x in (doc.get("reports") or {}).get("metrics") or []:
        if x.get("target") is None or x.get("subjects") is None:
            continue
        observed = int(x["subjects"]) - int(x.get("missing") or 0)
        needed = math.ceil(Decimal(x["target"]) * observed / 100) - int(x.get("count") or 0)  # ⌈target × n⌉ − met
        out.append({"kind": "target", "metric": x["id"], "target": x["target"], "observed": observed,
                    "met": int(x.get("count") or 0), "more": max(int(needed), 0)})
    return out


def _rate(g: m.Goal, text) -> str | None:
    """A goal's price: an amount, or the text of the expression that prices each line."""
    if g.rate is None:
        return None
    if isinstance(g.rate.amount, m.Quantity):
        return money(g.rate.amount.value)
    return text(g.rate.amount)


def public(result: dict) -> dict:
    return {k: (v or []) if k == "trace" else v for k, v in result.items() if not k.startswith("_") and k != "kind"}


def money_map(d) -> dict:
    return {k: money(v) for k, v in sorted(d.items())}


def display_path(path: str | None) -> str | None:
    """A path as a document records it: relative to the working directory (`../ledger` where it is beside it), so
    that `verify` and `diff` find it again from there and the document does not depend on where the checkout is;
    its name alone where no relative path leads to it (another drive)."""
    if path is None:
        return None
    try:
        return Path(os.path.relpath(Path(path).resolve(), Path.cwd().resolve())).as_posix()
    except ValueError:
        return Path(path).name


def _row_accounting(s) -> dict:
    """Every ledger row: used, or excluded with a reason."""
    L = s.L
    rows = {f["file"]: {"total": f["rows"], "used": f["rows"], "excluded": 0} for f in L.files}
    excluded = []
    if "measurements.csv" in rows:
        not_read: dict[tuple[str, str], tuple[str, dict]] = {}
        unused = [(key, obs) for key, obs in L.values.items() if obs.line not in s.used_rows]
        for (sid, measure, point), obs in sorted(unused, key=lambda kv: kv[1].line):
            person = L.persons.get(sid)
            hid = person.household if person else sid
            h = L.households[hid]
            # `facts`: what `detail` says, as fields, for reports in any language (docs/settlement-json.md)
            if h.start > s.as_of:
                reason, detail = "not_started", f"household {hid} starts {h.start}, after {s.as_of}"
                facts = {"household": hid, "start": h.start.isoformat(), "as_of": s.as_of.isoformat()}
            elif h.group == "intervention" and not s.counting.get(hid, (True, ""))[0]:
                reason, detail = "not_counting", f"household {hid} {s.counting[hid][1]}"
                facts = {"household": hid, **s.stay_facts[hid]}
            elif obs.date is not None and obs.date > s.as_of:
                reason, detail = "not_due", f"measured {obs.date}, after {s.as_of}"
                facts = {"measured": obs.date.isoformat(), "as_of": s.as_of.isoformat()}
            else:  # one text and one facts dict per measure and point, shared by its rows
                if (measure, point) not in not_read:
                    not_read[measure, point] = (f"no goal, flag or comparison of the contract reads {measure} "
                                                f"at {point} for this subject (eligibility, point not due, or not needed)",
                                                {"measure": measure, "point": point})
                reason, detail = "not_read", not_read[measure, point][0]
                facts = not_read[measure, point][1]
            excluded.append({"file": "measurements.csv", "line": obs.line, "reason": reason, "detail": detail,
                             "facts": facts})
        for line, delivered, reason, by_line in L.withheld.select("line", "delivered", "reason", "by_line").iter_rows():
            if reason == "not_delivered":  # delivered after the knowledge date
                detail = f"delivered {delivered}, after the knowledge date {L.known_as_of}"
                facts = {"delivered": delivered.isoformat(), "known_as_of": L.known_as_of.isoformat()}
            else:  # superseded by a later delivery of the same measurement
                detail, facts = f"replaced by the later delivery on line {by_line}", {"by_line": by_line}
            excluded.append({"file": "measurements.csv", "line": line, "reason": reason, "detail": detail,
                             "facts": facts})
        excluded.sort(key=lambda r: r["line"])
        rows["measurements.csv"]["excluded"] = len(excluded)
        rows["measurements.csv"]["used"] -= len(excluded)
    return {"rows": rows, "row_exclusions": excluded}


def reduction(c: m.Contract, actual: int) -> dict | None:
    """The relative reduction of the grants (reported only): `actual` intervention households against the expected."""
    red = c.reduction
    if red is None:
        return None
    table = c.table(red.table)
    row = next(r for r in table.rows if r.id == red.row)
    index = next(i for i, col in enumerate(table.columns) if col.id == red.column)
    expected = row.cells[index].value
    out = {"clause": red.clause, "expected_households": int(expected), "actual_households": actual, "grants": {}}
    for g in c.grants:
        grant = g.amount.value
        reduction = max(ZERO, grant - Decimal(actual) / expected * grant) if expected else ZERO
        out["grants"][g.party] = {"grant": money(grant), "reduction": money(reduction)}
    return out


def line_id_parts(line_id: str) -> tuple[str, str, str]:
    """(goal, subject, point) of a line id `goal/subject/point` (a subject id may hold a `/`)."""
    goal, _, rest = line_id.partition("/")
    subject, _, point = rest.rpartition("/")
    return goal, subject, point


def find_line(doc: dict, line_id: str) -> dict | None:
    """The line of a settlement document with this id (`goal/subject/point`)."""
    return next((ln for ln in doc["lines"] if ln["id"] == line_id), None)
