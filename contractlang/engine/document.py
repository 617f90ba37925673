"""The settled lines and results → the settlement document (docs/settlement-json.md).

Nothing is computed here that the stages before did not: amounts are summed from
the lines, texts are formatted."""

from __future__ import annotations

import io
from collections import defaultdict

import polars as pl

import orjson

from .. import document as json_document
from ..explain import due_date, header, margins, period_of, periodic_caps, public, reduction, rule_step
from ..expressions import _settled, show
from fractions import Fraction
from . import exclusions
from . import records as rec
from . import trails
from .context import Run
from .payments import caps_in_order, tranche_rounding
from .numbers import money


def with_split(c, lines: pl.DataFrame, parties: list[str]) -> tuple[pl.DataFrame, list[str]]:
    """The lines with each recipient's share of each line (`split:<party>`, null where the recipient has no
    part in the line), and the recipients: the sum of its parts in the tranches, or the whole amount to
    the one funder when the contract has no tranches."""
    t = c.tranches
    if t is None:
        single = c.single_recipient()
        return lines.with_columns(pl.when(pl.col("amount") != 0).then(pl.col("amount")).alias(f"split:{single}")), \
            [single]
    for q in parties:
        held = [i for i in range(len(t.tranches)) if q in _parties(t, i)]
        present = pl.any_horizontal(*[pl.col(f"t{i}").is_not_null() for i in held])
        lines = lines.with_columns(pl.when(present).then(pl.sum_horizontal(*[f"t{i}:{q}" for i in held]))
                                   .alias(f"split:{q}"))
    return lines, list(parties)


def outcome_texts(lines: pl.DataFrame) -> pl.Series:
    """Each line's outcome as the document writes it (every digit; a fraction to 50 digits)."""
    pairs = lines.select("num", "den").unique()
    texts = {(n, d): show(_settled(Fraction(n, d))) for n, d in pairs.iter_rows()}
    keys = lines.select(pl.concat_str([pl.col("num").cast(pl.Utf8), pl.lit("/"), pl.col("den").cast(pl.Utf8)]))
    mapping = {f"{n}/{d}": t for (n, d), t in texts.items()}
    return keys.to_series().replace_strict(mapping, return_dtype=pl.Utf8)


def build(run: Run, lines: pl.DataFrame, parties: list[str], goal_cap_cut: dict, return_cut: int,
          running: dict, results) -> dict:
    c = run.contract
    due_rule = c.settlement.due if c.settlement else "end of following quarter"
    dates = lines["date"].unique().to_list()
    period = {d: period_of(d, c.settlement) for d in dates}
    lines = lines.with_columns(
        pl.col("date").replace_strict({d: p[0] for d, p in period.items()}, return_dtype=pl.Utf8).alias("period"),
        outcome_texts(lines).alias("outcome"))
    lines, split_cols = with_split(c, lines, parties)
    # Totals and periods
    by_recipient = {}
    for q in split_cols:
        values = lines[f"split:{q}"].drop_nulls()
        if values.len():
            by_recipient[q] = int(values.sum())
    by_payer = dict(lines.group_by("payer").agg(pl.col("amount").sum()).iter_rows())
    totals_goal = dict(lines.group_by("goal").agg(pl.col("after_goal_cap").sum()).iter_rows())
    period_rows = []
    cumulative = 0
    per = lines.group_by("period")
    amounts = dict(per.agg(pl.col("amount").sum()).iter_rows())
    by_goal = defaultdict(dict)
    for p, g, v in lines.group_by("period", "goal").agg(pl.col("amount").sum()).iter_rows():
        by_goal[p][g] = v
    by_payer_p = defaultdict(dict)
    for p, g, v in lines.group_by("period", "payer").agg(pl.col("amount").sum()).iter_rows():
        by_payer_p[p][g] = v
    by_recipient_p = defaultdict(dict)
    for q in split_cols:
        for p, v, n in lines.group_by("period").agg(pl.col(f"split:{q}").sum(), pl.col(f"split:{q}").count()
                                                    .alias("n")).iter_rows():
            if n:
                by_recipient_p[p][q] = v
    first_last = {p[0]: (p[1], p[2]) for p in period.values()}
    for name in sorted(amounts):
        cumulative += amounts[name]
        first, last = first_last[name]
        period_rows.append({"period": name, "start": first.isoformat(), "end": last.isoformat(),
                            "due": due_date(last, due_rule).isoformat(), "amount": money(amounts[name]),
                            "by_goal": _mm(by_goal[name]), "by_payer": _mm(by_payer_p[name]),
                            "by_recipient": _mm(by_recipient_p[name]), "cumulative": money(cumulative)})
    accounting, unused = row_accounting(run) if run.accounts else ({"rows": {}}, pl.DataFrame(schema={"line": pl.Int64}))
    doc = {
        **header(c, run.ledger.files, run.as_of, run.text, run.ledger.directory, run.ledger.known_as_of),
        "totals": {
            "goals": {g.id: money(totals_goal.get(g.id, 0)) for g in c.goals},
            "goal_cap_cut": {g.id: money(goal_cap_cut.get(g.id, 0)) for g in c.goals},
            "return_cap_cut": money(return_cut),
            "by_payer": _mm(by_payer),
            "by_recipient": _mm(by_recipient),
            "pool": money(sum(by_payer.values())),
            "imputed": {g.id: run.imputed.get(g.id, 0) for g in c.goals},
        },
        "periods": period_rows,
        "flags": sorted(run.flags, key=lambda f: (f["id"], str(f["subject"]), str(sorted(f["details"].items())))),
        **accounting,
        "reports": {"relative_reduction": reduction(c, run.L.households.filter(pl.col("group") == "intervention").height),
                    "metrics": [public(results.results[x.id]) for x in c.metrics],
                    "figures": [public(results.results[x.id]) for x in c.figures]},
    }
    doc["margins"] = margins(doc, periodic_caps(c, running))
    records = {"lines": (lines, lambda part: line_json(run, part, split_cols)),
               "exclusions": (exclusions.ordered(run).to_frame("j"), lambda part: part["j"]),
               "row_exclusions": (unused, lambda part: row_json(run, part))}
    return Settlement(doc, lines, records)


_BETWEEN = ",\n    "  # what separates two records of a list in the document (`document.py`)

#: Records made and written at a time: a block's JSON texts exist only while it is written.
BLOCK = 50_000


class Settlement:
    """A settlement: the document without its record lists, and each list as a frame with the function
    that makes the JSON records of any slice of it (so that a large settlement is never held as text)."""

    def __init__(self, head: dict, lines: pl.DataFrame, records: dict):
        self.head = head
        self.lines = lines
        self.records = records

    def texts(self, key: str):
        """The JSON records of one list, block by block (Series of texts)."""
        frame, make = self.records[key]
        for start in range(0, frame.height, BLOCK):
            yield make(frame.slice(start, BLOCK))

    def _encoded(self) -> dict:
        """Each record list as blocks of records joined as the writer joins them (fewer, larger writes).

        A block is written by Polars' CSV writer, one record a row, unquoted, each ended by the separator
        the document puts between records (the last one's cut off): the texts are copied once, in Rust."""
        def blocks(key: str):
            for texts in self.texts(key):
                if texts.len() == 0:
                    continue
                buf = io.BytesIO()
                texts.to_frame().write_csv(buf, include_header=False, quote_style="never",
                                           line_terminator=_BETWEEN)
                yield buf.getbuffer()[:-len(_BETWEEN)]
        return {key: blocks(key) for key in self.records}

    def shares(self):
        """Each line's shares as the account reads them: (id, period, payer, {recipient: amount})."""
        cols = [c for c in self.lines.columns if c.startswith("split:")]
        for line, period, payer, *split in self.lines.select(rec.line_id(), "period", "payer", *cols).iter_rows():
            yield line, period, payer, {c[6:]: money(v) for c, v in zip(cols, split) if v is not None}

    def document(self) -> dict:
        """The whole settlement document as one dict (the JSON document, parsed)."""
        return {**self.head, **{key: [orjson.loads(t) for texts in self.texts(key) for t in texts]
                                for key in self.records}}

    def write_json(self, fh) -> None:
        json_document.write_document_json(self.head, fh, self._encoded())

    def json(self) -> bytes:
        return json_document.document_json(self.head, self._encoded())


def _mm(d: dict) -> dict:
    return {k: money(v) for k, v in sorted(d.items())}


def _parties(t, i: int) -> set[str]:
    return {s.party for s in t.tranches[i].shares} | {t.remainder}


def line_json(run: Run, lines: pl.DataFrame, split_cols: list[str]) -> pl.Series:
    """Each line's compact record, as the document writer would write its dict (sorted keys, no spaces).

    The amounts of a line (gross, after the goal caps, paid, its split and tranche parts) repeat
    across lines: each distinct combination is written once, in Python, and joined back to its
    lines; only the texts that differ per line (date, id, subject, outcome) are made per line."""
    t = run.contract.tranches
    tranche_cols = [] if t is None else [[f"t{i}", *[f"t{i}:{q}" for q in sorted(_parties(t, i))]]
                                         for i in range(len(t.tranches))]
    money_cols = ["after_goal_cap", "amount", "gross", *[f"split:{q}" for q in sorted(split_cols)],
                  *[c for cols in tranche_cols for c in cols]]
    combos = lines.select(money_cols).unique()
    pieces = {"_head": [], "_gross": [], "_split": [], "_tranche": []}
    for row in combos.iter_rows(named=True):
        agc, amount, gross = row["after_goal_cap"], row["amount"], row["gross"]
        cut = "true" if amount != gross else "false"
        pieces["_head"].append(f'{{"after_goal_cap":"{money(agc)}","amount":"{money(amount)}","cut":{cut},"date":"')
        pieces["_gross"].append(f',"gross":"{money(gross)}","id":')
        split = ",".join(f'{_key(q)}:"{money(row[f"split:{q}"])}"' for q in sorted(split_cols)
                         if row[f"split:{q}"] is not None)
        pieces["_split"].append(f',"split":{{{split}}},"subject":')
        parts = []
        for i, cols in enumerate(tranche_cols):
            if row[cols[0]] is None:
                continue
            shares = ",".join(f'{_key(c.split(":", 1)[1])}:"{money(row[c])}"' for c in cols[1:] if row[c] is not None)
            parts.append(f'{{"amount":"{money(row[cols[0]])}","split":{{{shares}}},"tranche":{t.tranches[i].number}}}')
        pieces["_tranche"].append(f'],"tranche":[{",".join(parts)}]}}')
    combos = combos.with_columns(*[pl.Series(k, v, dtype=pl.Utf8) for k, v in pieces.items()])
    lines = rec.with_text(lines, goal=pl.col("goal"), outcome=pl.col("outcome"), payer=pl.col("payer"),
                          period=pl.col("period"), point=pl.col("point"), subject=pl.col("subject"),
                          id=rec.line_id())
    pieces = lines.select(money_cols).join(combos, on=money_cols, how="left", nulls_equal=True, maintain_order="left")
    lines = lines.hstack(pieces.select("_head", "_gross", "_split", "_tranche"))  # the wide block is not copied
    return lines.select(pl.concat_str([
        pl.col("_head"), pl.col("date").dt.to_string("%Y-%m-%d"), pl.lit('","goal":'), pl.col("j:goal"),
        pl.col("_gross"), pl.col("j:id"),
        pl.lit(',"imputed":'), pl.when(pl.col("imputed")).then(pl.lit("true")).otherwise(pl.lit("false")),
        pl.lit(',"outcome":'), pl.col("j:outcome"), pl.lit(',"payer":'), pl.col("j:payer").fill_null("null"),
        pl.lit(',"period":'), pl.col("j:period"), pl.lit(',"point":'), pl.col("j:point"),
        pl.col("_split"), pl.col("j:subject"), pl.lit(',"trace":['),
        *([_trace(run)] if run.trails else []), pl.col("_tranche")])).to_series()


def _trace(run: Run) -> pl.Expr:
    """Each line's audit trail (the steps inside its brackets): the goal's rule, the steps recorded up to its
    payment (`trail`), then its caps and tranches from the columns the payments stage kept."""
    c = run.contract
    rules = {g.id: trails.json_text(rule_step("goal", g)) for g in c.goals}
    t = c.tranches
    steps = trails.joined([pl.col("goal").replace_strict(rules, return_dtype=pl.Utf8), pl.col("trail"),
                           *trails.cap_steps(c, caps_in_order(c)),
                           *([] if t is None else trails.tranche_steps(c, tranche_rounding(run),
                                                                       lambda i: _parties(t, i)))])
    return pl.when(pl.col("trail").is_not_null()).then(steps).otherwise(pl.lit(""))  # `Run.only`: one subject's


def _key(text: str) -> str:
    return orjson.dumps(text).decode()


def row_accounting(run: Run) -> tuple[dict, pl.DataFrame]:
    """Every ledger row: used, or excluded with a reason; the row counts and the excluded rows (a frame
    that `row_json` writes)."""
    files = run.ledger.files
    rows = {f["file"]: {"total": f["rows"], "used": f["rows"], "excluded": 0} for f in files}
    L, as_of = run.L, run.as_of
    if "measurements.csv" not in rows:
        return {"rows": rows}, pl.DataFrame(schema={"line": pl.Int64})
    # The measurements are sorted by line: a used line marks its row, found by binary search.
    lines = L.measurements["line"]
    used = pl.repeat(False, lines.len(), dtype=pl.Boolean, eager=True)
    if run.used:
        used_lines = pl.concat([s.cast(pl.Int64) for s in run.used]).drop_nulls().unique()
        used.scatter(lines.search_sorted(used_lines), True)
    hh = L.all_households.join(L.households.select("household_id", "counting", "stay_end", "stay_needed"),
                               on="household_id", how="left")
    unused = (L.measurements.select("line", "subject_id", "measure", "point", "date").filter(~used)
              .join(L.all_persons.select(pl.col("person_id").alias("subject_id"), pl.col("household_id")),
                    on="subject_id", how="left", maintain_order="left")
              .with_columns(pl.coalesce("household_id", "subject_id").alias("household_id"))
              .join(hh.select("household_id", "start", "group", "counting", "stay_end", "stay_needed"),
                    on="household_id", how="left", maintain_order="left"))
    started = pl.col("start") > pl.lit(as_of)
    not_counting = (pl.col("group") == "intervention") & ~pl.col("counting").fill_null(True)
    late = pl.col("date").is_not_null() & (pl.col("date") > pl.lit(as_of))
    reason = (pl.when(started).then(pl.lit("not_started")).when(not_counting).then(pl.lit("not_counting"))
              .when(late).then(pl.lit("not_due")).otherwise(pl.lit("not_read")))
    unused = unused.select("line", "household_id", "measure", "point", "date", "start", "stay_end", "stay_needed",
                           reason.alias("reason"), pl.lit(None, pl.Date).alias("delivered"),
                           pl.lit(None, pl.Int64).alias("by_line"))
    withheld = run.ledger.withheld  # not delivered by the knowledge date, or superseded by a later delivery
    if withheld.height:
        unused = pl.concat([unused, withheld.select(
            "line", pl.lit(None, pl.Utf8).alias("household_id"), "measure", "point", "date",
            *[pl.lit(None, pl.Date).alias(c) for c in ("start", "stay_end", "stay_needed")], "reason", "delivered",
            "by_line")]).sort("line")
    rows["measurements.csv"]["excluded"] = unused.height
    rows["measurements.csv"]["used"] -= unused.height
    return {"rows": rows}, unused


def row_json(run: Run, unused: pl.DataFrame) -> pl.Series:
    """The records of excluded ledger rows (a slice of `row_accounting`'s frame)."""
    as_of, months, known = run.as_of, run.L.min_stay, run.ledger.known_as_of
    stay = pl.concat_str([pl.lit("started "), rec.iso(pl.col("start")), pl.lit("; stay ended "), rec.iso(pl.col("stay_end")),
                          pl.lit(f" before reaching {months} months ("), rec.iso(pl.col("stay_needed")), pl.lit(")")])
    detail = (pl.when(pl.col("reason") == "not_started").then(pl.concat_str(
                  [pl.lit("household "), pl.col("household_id"), pl.lit(" starts "), rec.iso(pl.col("start")),
                   pl.lit(f", after {as_of}")]))
              .when(pl.col("reason") == "not_counting").then(pl.concat_str(
                  [pl.lit("household "), pl.col("household_id"), pl.lit(" "), stay]))
              .when(pl.col("reason") == "not_due").then(pl.concat_str(
                  [pl.lit("measured "), rec.iso(pl.col("date")), pl.lit(f", after {as_of}")]))
              .when(pl.col("reason") == "not_delivered").then(pl.concat_str(
                  [pl.lit("delivered "), rec.iso(pl.col("delivered")), pl.lit(f", after the knowledge date {known}")]))
              .when(pl.col("reason") == "superseded").then(pl.concat_str(
                  [pl.lit("replaced by the later delivery on line "), pl.col("by_line").cast(pl.Utf8)]))
              .otherwise(pl.concat_str([pl.lit("no goal, flag or comparison of the contract reads "), pl.col("measure"),
                                        pl.lit(" at "), pl.col("point"), pl.lit(
                                            " for this subject (eligibility, point not due, or not needed)")])))
    unused = unused.with_columns(detail.alias("_detail"))
    unused = unused.with_columns(rec.text(unused, pl.col("_detail")).alias("_jdetail"),
                                 rec.text(unused, pl.col("household_id")).alias("_jhid"),
                                 rec.text(unused, pl.col("measure")).alias("_jmeasure"),
                                 rec.text(unused, pl.col("point")).alias("_jpoint"))
    as_of_json = rec.literal(as_of.isoformat())
    facts = {
        "not_started": [("household", pl.col("_jhid")), ("start", rec.date(pl.col("start"))), ("as_of", as_of_json)],
        "not_counting": [("household", pl.col("_jhid")), ("needed", rec.date(pl.col("stay_needed"))),
                         ("start", rec.date(pl.col("start"))), ("stay_end", rec.date(pl.col("stay_end"))),
                         ("stay_months", pl.lit(str(months)))],
        "not_due": [("measured", rec.date(pl.col("date"))), ("as_of", as_of_json)],
        "not_read": [("measure", pl.col("_jmeasure")), ("point", pl.col("_jpoint"))],
        "not_delivered": [("delivered", rec.date(pl.col("delivered"))),
                          ("known_as_of", rec.literal(known.isoformat() if known else ""))],
        "superseded": [("by_line", pl.col("by_line").cast(pl.Utf8))]}
    chain = pl.when(pl.lit(False)).then(pl.lit(""))
    for why, pairs in facts.items():
        chain = chain.when(pl.col("reason") == why).then(rec.obj(pairs))
    record = rec.obj([("detail", pl.col("_jdetail")), ("facts", chain.otherwise(pl.lit("{}"))),
                      ("file", rec.literal("measurements.csv")), ("line", pl.col("line").cast(pl.Utf8)),
                      ("reason", pl.concat_str([pl.lit('"'), pl.col("reason"), pl.lit('"')]))])
    return unused.select(record.alias("j"))["j"]


__all__ = ["build", "Settlement", "row_accounting", "row_json", "with_split"]
