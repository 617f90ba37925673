"""Words and number formats for reports, in Danish (`da`) and English (`en`).

Every word a report shows comes from `CATALOGUE` (`catalogue.py`); every amount, number,
percentage and date goes through Babel with an explicit locale. Values arrive
as the decimal strings of the settlement document and stay `Decimal`
throughout: nothing here ever touches a float.

Formats chosen (see `Formatter`):

* money: `da` → `72.150,00 kr.` (Babel's `da_DK` currency format); `en` →
  `DKK 72,150.00` (`en_GB` symbols with the pattern `¤ #,##0.00`, the layout
  CLDR prescribes when an alphabetic symbol precedes the number). The space
  is Babel's no-break space U+00A0 in both languages.
* percentages: the locale's percent pattern with as many decimals as the
  document gives: `5,07 %` / `5.07%`, `74 %` / `74%`.
* numbers: every decimal place the document gives, never rounded or cut
  (`-21,05263157894736842105263158`), so that a reader can redo the
  arithmetic to the øre from the explanation alone. A value the engine itself
  cut short arrives ending in `…` and keeps that mark.
* dates: Babel's `medium` date: `31. okt. 2028` / `31 Oct 2028`.
* minus sign: CLDR's for both locales, the ASCII hyphen-minus (`-21,1`).
"""

from __future__ import annotations

import datetime as dt
import re
import decimal
from decimal import Decimal

from babel import Locale
from babel.dates import format_date
from babel.numbers import format_currency, format_decimal, format_percent, get_currency_symbol

LANGS = ("da", "en")
LOCALES = {"da": "da_DK", "en": "en_GB"}
#: Currency pattern per language; None means the locale's own standard pattern.
CURRENCY_PATTERNS = {"da": None, "en": "¤\u00a0#,##0.00"}
PERCENT_PATTERNS = {"da": "#,##0\u00a0%", "en": "#,##0%"}

from .model import is_currency  # noqa: E402
from .catalogue import CATALOGUE  # noqa: E402  (the phrases; i18n.CATALOGUE is the name callers use)

_NUMBER = re.compile(r"(?<![\w.@])\d+(?:\.\d+)?(?![\w.])")
_FUNCTION = re.compile(r"\b(mean|max|min|round|total)\(")
_AMOUNT = re.compile(r"^-?\d+\.\d{2}$")
_NUMERIC = re.compile(r"-?\d+(?:\.\d+)?…?")


def to_decimal(value, cut_short: bool = False) -> Decimal:
    """A document value (decimal string, int or Decimal) as Decimal; floats are refused.

    With `cut_short`, a string the engine already cut short (`"10.1365517…"`)
    is read without its `…`; the caller must show that it is cut short.
    """
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool) or isinstance(value, float):
        raise TypeError(f"not a decimal value: {value!r}")
    text = str(value)
    if cut_short and text.endswith("…"):
        text = text[:-1]
    return Decimal(text)


def _places(d: Decimal) -> int:
    """The decimal places a Decimal is written with (`7.50` → 2, `1E+3` → 0)."""
    exp = d.as_tuple().exponent
    return max(0, -exp) if isinstance(exp, int) else 0


def _exact(d: Decimal):
    """A decimal context wide enough that Babel's quantize keeps every digit of `d` (never rounds).

    Babel quantizes in the current context, whose default 28 digits would round
    the engine's 50-digit values (or fail).
    """
    t = d.as_tuple()
    exp = t.exponent if isinstance(t.exponent, int) else 0
    return decimal.localcontext(decimal.Context(prec=max(28, len(t.digits) + abs(exp) + 8)))


class Formatter:
    """Words and numbers for one language; every Babel call passes `locale=` explicitly."""

    def __init__(self, lang: str, currency: str = "DKK"):
        if lang not in LANGS:
            raise ValueError(f"language must be one of {', '.join(LANGS)}, not {lang!r}")
        self.lang = lang
        self.locale = LOCALES[lang]
        self.currency = currency
        self._i = LANGS.index(lang)

    # ---- words ----
    def t(self, key: str, **kw) -> str:
        """The catalogue entry `key` in this language, with `kw` filled in."""
        text = CATALOGUE[key][self._i]
        return without_empty_clause(text, kw).format(**kw) if kw else text

    def raw(self, key: str) -> str:
        """The catalogue entry `key` unformatted, for callers that mark up the values first."""
        return CATALOGUE[key][self._i]

    def code(self, prefix: str, value) -> str:
        """A translated code (`reason.not_due`), or the code itself when the catalogue lacks it."""
        key = f"{prefix}.{value}"
        return self.t(key) if key in CATALOGUE else str(value)

    # ---- numbers ----
    def money(self, value) -> str:
        """An amount: `72.150,00 kr.` / `DKK 72,150.00` / `£15,000.00`; a price with more places keeps them all."""
        d = to_decimal(value)
        places = _places(d)
        # A currency shown by its code (DKK in English) is spaced from the number; a symbol (£, €) is as the
        # locale writes it.
        pattern = CURRENCY_PATTERNS[self.lang] if self.currency_symbol().isalpha() else None
        if places > 2:
            pattern = (pattern or Locale.parse(self.locale).currency_formats["standard"].pattern).replace(
                "0.00", "0." + "0" * places, 1)
        with _exact(d):
            return format_currency(d, self.currency, format=pattern, locale=self.locale,
                                   currency_digits=pattern is None)

    def currency_symbol(self) -> str:
        return get_currency_symbol(self.currency, locale=self.locale)

    def num(self, value, grouping: bool = True) -> str:
        """A decimal with every place it has (`7.50` → `7,50`), never rounded or cut short.

        A value the engine already cut short (`"0.239583333333…"`) keeps its `…`.
        """
        d = to_decimal(value, cut_short=True)
        tail = "…" if str(value).endswith("…") else ""
        places = _places(d)
        pattern = ("#,##0" if grouping else "0") + ("." + "0" * places if places else "")
        with _exact(d):
            return format_decimal(d, format=pattern, locale=self.locale) + tail

    def short(self, value, places: int = 4) -> tuple[str, str | None]:
        """A number for a table a person reads: with every place when it has at most `places`, else rounded
        to `places` (half even) and marked `≈`; and the exact value (`num`) when it was rounded, else None."""
        d = to_decimal(value, cut_short=True)
        if _places(d) <= places and not str(value).endswith("…"):
            return self.num(value), None
        shown = d.quantize(Decimal(1).scaleb(-places), rounding=decimal.ROUND_HALF_EVEN)
        with _exact(shown):
            text = format_decimal(shown, format="#,##0." + "0" * places, locale=self.locale)
        return "≈" + text, self.num(value)

    def pp(self, value) -> str:
        """Percentage points with at least one decimal (`"-19"` → `-19,0` / `-19.0`), every place kept."""
        d = to_decimal(value, cut_short=True)
        pattern = "#,##0." + "0" * max(1, _places(d))
        with _exact(d):
            return format_decimal(d, format=pattern, locale=self.locale) + ("…" if str(value).endswith("…") else "")

    def count(self, value) -> str:
        return format_decimal(int(value), format="#,##0", locale=self.locale)

    def axis(self, value) -> str:
        """A whole-number axis label (`300.000` / `300,000`)."""
        return format_decimal(to_decimal(value), format="#,##0", locale=self.locale)

    def pct(self, value) -> str:
        """A percentage given in percent (`"74"` → `74 %` / `74%`), with every place it has."""
        d = to_decimal(value, cut_short=True)
        tail = "…" if str(value).endswith("…") else ""
        places = _places(d)
        pattern = PERCENT_PATTERNS[self.lang]
        if places:
            pattern = pattern.replace("#,##0", "#,##0." + "0" * places, 1)
        with _exact(d):
            text = format_percent(d.scaleb(-2), format=pattern, locale=self.locale)
        if tail:   # the mark belongs to the number, before the percent sign
            text = re.sub(r"(\d)(?!.*\d)", r"\1…", text, count=1)
        return text

    def date(self, value) -> str:
        """An ISO date as Babel's medium date: `31. okt. 2028` / `31 Oct 2028`."""
        return format_date(dt.date.fromisoformat(str(value)), format="medium", locale=self.locale)

    def period(self, value: str) -> str:
        """A period code in words: `2024-H2` → `2. halvår 2024` / `H2 2024`; `2024/25-Q1` → `1. kvartal 2024/25` /
        `Q1 2024/25` (a year from another day than 1 January); `2024-07` → `jul. 2024` / `Jul 2024`."""
        m = re.fullmatch(r"(\d{4}(?:/\d\d)?)-([HQ])([1-4])", str(value))
        if m:
            return self.t("half" if m.group(2) == "H" else "quarter", n=m.group(3), year=m.group(1))
        m = re.fullmatch(r"(\d{4})-(\d\d)", str(value))
        if m and 1 <= int(m.group(2)) <= 12:
            return format_date(dt.date(int(m.group(1)), int(m.group(2)), 1), "MMM y", locale=self.locale)
        return str(value)

    def clause(self, value) -> str:
        return f"§ {value}" if value else ""

    def plural(self, n, one: str, many: str) -> str:
        return self.t(one) if to_decimal(n) == 1 else self.t(many)

    def expr(self, text: str) -> str:
        """An arithmetic expression with its numbers localised: `(7,50 - 9,50) / 9,50 × 100`.

        In Danish, where the comma is the decimal sign, arguments are separated
        by `;` as in a Danish spreadsheet.
        """
        s = str(text)
        if self.lang == "da":
            s = s.replace(", ", "; ")
        s = _FUNCTION.sub(lambda m: self.t(f"fn.{m.group(1)}") + "(", s)
        s = _NUMBER.sub(lambda m: self.num(m.group(0), grouping=False), s)
        return s.replace(" * ", " × ")

    def value(self, value) -> str:
        """Any scalar of the document: counts as counts, decimal strings as numbers, names as they are."""
        if value is None:
            return self.t("none")
        if isinstance(value, bool) or value in ("true", "false"):
            return self.t("yes" if value in (True, "true") else "no")
        if value == "missing":   # the engine's word for a missing value
            return self.t("missing_value")
        if isinstance(value, int):
            return self.count(value)
        s = str(value)
        if _NUMBER.fullmatch(s.lstrip("-").rstrip("…")):
            return self.num(s)
        return s

    def is_amount(self, value) -> bool:
        return isinstance(value, str) and bool(_AMOUNT.match(value))


# ---- markup and sentences: the document's steps and facts in words -------------------------

class Plain:
    """Terminal text: no markup. Subclasses (render.Markdown, render.Html) mark identifiers and escape text."""

    @staticmethod
    def esc(s: str) -> str:
        return s

    tpl = esc

    @staticmethod
    def code(s: str) -> str:
        return s


PLAIN = Plain()


def goals_by_id(doc: dict) -> dict:
    """The document's goals by id."""
    return {g["id"]: g for g in doc.get("goals", [])}


def party_name(doc: dict, pid: str) -> str:
    """A party's name (`Viborg Kommune`), or its id when the document has none."""
    return (doc.get("parties", {}).get(pid) or {}).get("name") or pid


def is_number(v) -> bool:
    """A document value that reads as a number: an int, a Decimal, or a decimal string (possibly cut short by the engine)."""
    if isinstance(v, bool):
        return False
    if isinstance(v, (int, Decimal)):
        return True
    return isinstance(v, str) and bool(_NUMERIC.fullmatch(v))


#: Input rows of an aggregate listed by number before the rest are counted.
MAX_ROWS_LISTED = 20


def _owner_of(text) -> str | None:
    """What a contract-level rule step belongs to, from its source text's keyword (`flag`, `metric`, `figure`)."""
    word = str(text or "").split(maxsplit=1)
    return word[0] if word and word[0] in ("flag", "metric", "figure") else None


def row_list(lines, fx: Formatter) -> str:
    """Ledger line numbers in words: `lines 105, 207, … and 77 more` (the first MAX_ROWS_LISTED)."""
    lines = list(lines)
    if not lines:
        return fx.t("step.rows_none")
    shown = ", ".join(str(n) for n in lines[:MAX_ROWS_LISTED])
    text = fx.t("step.rows_one" if len(lines) == 1 else "step.rows_many", lines=shown)
    if len(lines) > MAX_ROWS_LISTED:
        text += fx.t("step.rows_more", n=fx.count(len(lines) - MAX_ROWS_LISTED))
    return text


def cap_per(per, fx: Formatter) -> str:
    """What a cap runs per, in words: `per year`, `per subject` (`pr. år`, `pr. deltager`)."""
    key = f"cap_per.{per}"
    return fx.t(key) if key in CATALOGUE else fx.t("cap_per.other", per=per)


# ---- the engine's facts in words ----------------------------------------------------------------
#
# The engine writes its explanations twice: as English prose (`detail`, `reason`, `exemption`, `expr`,
# `text`) for readers of the JSON, and as `facts` (ids, dates, counts, codes; docs/settlement-json.md).
# Reports build the sentence from `facts` in their own language; a document without `facts` (older
# documents, hand-made fixtures) shows the prose as it is.

#: What a fact sentence may fail with when a document's `facts` lack a field: the prose is shown instead.
_FACT_ERRORS = (KeyError, TypeError, ValueError, AttributeError)


def without_empty_clause(template: str, kw: dict) -> str:
    """A sentence's template with its clause reference left out when the step has none: `(… § {clause})`
    would read `( )` or `, )` (a rule or cap the contract gives no clause)."""
    if "clause" in kw and not kw["clause"]:
        template = template.replace(" ({clause})", "").replace(", {clause})", ")").replace("({clause})", "")
    return template


def _say(fx: Formatter, mk: Plain, key: str, **kw) -> str:
    """A catalogue sentence with values already marked up by `mk`."""
    return mk.tpl(without_empty_clause(fx.raw(key), kw)).format(**kw)


def _day(fx: Formatter, mk: Plain, value) -> str:
    return mk.esc(fx.date(value))


def stay_text(facts: dict, fx: Formatter, mk: Plain = PLAIN) -> str:
    """A household's start and stay: `startede 21. nov. 2023; opholdet nåede 3 måneder den 21. feb. 2024`."""
    months = int(facts.get("stay_months", 0))
    unit = mk.esc(fx.plural(months, "month", "months"))
    start = _day(fx, mk, facts["start"])
    if "stay_reached" in facts:
        if months == 0:
            return _say(fx, mk, "fact.stay_none", start=start)
        return _say(fx, mk, "fact.stay_reached", start=start, months=mk.esc(fx.count(months)), unit=unit,
                    reached=_day(fx, mk, facts["stay_reached"]))
    return _say(fx, mk, "fact.stay_ended", start=start, end=_day(fx, mk, facts["stay_end"]),
                months=mk.esc(fx.count(months)), unit=unit, needed=_day(fx, mk, facts["needed"]))


def missing_text(facts: dict, fx: Formatter, mk: Plain = PLAIN) -> str:
    """Why a due value is missing: the household ended before the point (with its end reason), or no row."""
    if facts["missing"] == "ended":
        kw = dict(household=mk.code(str(facts["household"])), end=_day(fx, mk, facts["end"]),
                  point_date=_day(fx, mk, facts["point_date"]))
        if facts.get("end_reason"):
            return _say(fx, mk, "fact.missing_ended", end_reason=mk.esc(fx.code("end_reason", facts["end_reason"])), **kw)
        return _say(fx, mk, "fact.missing_ended_no_reason", **kw)
    if facts["missing"] == "no_row":
        return _say(fx, mk, "fact.missing_no_row")
    raise ValueError(facts["missing"])


def exemption_text(facts: dict, fx: Formatter, mk: Plain = PLAIN) -> str | None:
    """The `except replaced` exemption: replaced by whom, or not replaced; None when the rule has none."""
    if "exemption" not in facts:
        return None
    if facts["exemption"] == "replaced":
        return _say(fx, mk, "fact.replaced", replaced_by=mk.code(str(facts.get("replaced_by"))))
    if facts["exemption"] == "not_replaced":
        return _say(fx, mk, "fact.not_replaced")
    raise ValueError(facts["exemption"])


def _eligibility_text(facts: dict, fx: Formatter, mk: Plain) -> str:
    condition = mk.code(str(facts["condition"]))
    attributes = facts.get("attributes")
    if attributes:  # the attributes the contract declares, as the ledger gives them
        shown = ", ".join(f"{mk.code(k)} {mk.esc(fx.t('none') if v is None else str(v))}" for k, v in attributes.items())
        condition += _say(fx, mk, "fact.attributes", attributes=shown)
    if "age" not in facts:
        return _say(fx, mk, "fact.not_eligible", condition=condition)
    age = mk.esc(fx.count(facts["age"]))
    if facts.get("grade") is None:
        return _say(fx, mk, "fact.not_eligible_no_grade", age=age, condition=condition)
    return _say(fx, mk, "fact.not_eligible_person", age=age, grade=mk.esc(fx.count(facts["grade"])), condition=condition)


def _exclusion_text(reason, facts: dict, fx: Formatter, mk: Plain) -> str | None:
    code = mk.code
    if reason == "not_counting":
        return _say(fx, mk, "fact.household_stay", household=code(str(facts["household"])), stay=stay_text(facts, fx, mk))
    if reason == "not_eligible":
        return _eligibility_text(facts, fx, mk)
    if reason == "not_due":
        if "measured" in facts:   # a ledger row measured after the settlement date
            return _say(fx, mk, "fact.measured_late", measured=_day(fx, mk, facts["measured"]), as_of=_day(fx, mk, facts["as_of"]))
        if "cohort" in facts:
            return _say(fx, mk, "fact.not_due_cohort", point=code(str(facts["point"])), cohort=code(str(facts["cohort"])),
                        date=_day(fx, mk, facts["date"]))
        return _say(fx, mk, "fact.not_due_evidence" if facts.get("evidence") else "fact.not_due",
                    point=code(str(facts["point"])), date=_day(fx, mk, facts["date"]), limit=_day(fx, mk, facts["limit"]))
    if reason in ("missing_not_replaced", "replaced_no_correction"):
        exemption = exemption_text(facts, fx, mk)
        return missing_text(facts, fx, mk) + (f"; {exemption}" if exemption else "")
    if reason == "rate_missing":
        return _say(fx, mk, "fact.rate_missing", price=code(str(facts["price"])))
    if reason == "division_by_zero":
        return _say(fx, mk, f"fact.division_by_zero_{facts['in']}", expr=code(str(facts["expr"])))
    if reason == "not_started":
        return _say(fx, mk, "fact.not_started", household=code(str(facts["household"])), start=_day(fx, mk, facts["start"]),
                    as_of=_day(fx, mk, facts["as_of"]))
    if reason == "not_read":
        return _say(fx, mk, "fact.not_read", measure=code(str(facts["measure"])), point=code(str(facts["point"])))
    if reason == "not_delivered":
        return _say(fx, mk, "fact.not_delivered", delivered=_day(fx, mk, facts["delivered"]),
                    known=_day(fx, mk, facts["known_as_of"]))
    if reason == "superseded":
        return _say(fx, mk, "fact.superseded", line=mk.esc(str(int(facts["by_line"]))))
    if reason == "once_paid":
        return _say(fx, mk, "fact.once_paid", line=code(str(facts["paid"])))
    if reason == "prerequisite_unpaid":
        return _say(fx, mk, "fact.prerequisite_unpaid", goal=code(str(facts["requires"])))
    if reason == "excluded_by":
        return _say(fx, mk, "fact.excluded_by", goal=code(str(facts["goal"])), line=code(str(facts["paid"])))
    return None


def exclusion_detail(record: dict, fx: Formatter, mk: Plain = PLAIN) -> str:
    """The explanation of an exclusion or an excluded ledger row (`exclusions[]`, `row_exclusions[]`), marked up by `mk`:
    built from its `facts` in the report's language, or the engine's prose `detail` when it has none."""
    facts = record.get("facts")
    if isinstance(facts, dict):
        try:
            text = _exclusion_text(record.get("reason"), facts, fx, mk)
        except _FACT_ERRORS:
            text = None
        if text is not None:
            return text
    return mk.esc(str(record.get("detail") or ""))


def flag_title(flag: dict, fx: Formatter) -> str:
    """A raised flag's title: the contract's, or for a flag the engine raises itself (`no_observations`) the catalogue's."""
    if flag.get("title"):
        return str(flag["title"])
    key = f"flag_title.{flag.get('id')}"
    return fx.t(key) if key in CATALOGUE else str(flag.get("id") or "")


def goal_texts(doc: dict) -> dict[str, str]:
    """Each goal's contract text, for the goals whose lines have trails, in goal order: the text in the
    document's `rules` table that their `rule` step names (or, in an older document, the step's own)."""
    texts: dict[str, str] = {}
    table = doc.get("rules") or {}
    for line in doc.get("lines", []):
        for step in line.get("trace", []):
            rule = step.to_json() if not isinstance(step, dict) else step
            if rule.get("kind") == "rule" and rule.get("goal") and rule["goal"] not in texts:
                text = table.get(rule.get("rule"), rule.get("text"))
                if text:
                    texts[rule["goal"]] = text
    return {g["id"]: texts[g["id"]] for g in doc.get("goals", []) if g["id"] in texts}


def line_facts(line: dict, doc: dict, fx: Formatter, mk: Plain = PLAIN) -> list[tuple[str, str]]:
    """The headline facts of a line as (label, value) pairs; labels plain, values marked up by `mk`."""
    goal = goals_by_id(doc).get(line.get("goal"), {})
    esc, code = mk.esc, mk.code
    marks = [fx.t(k) for k in ("imputed", "cut") if line.get(k)]
    facts = [
        (fx.t("goal"), f"{code(str(line.get('goal')))} ({esc(goal.get('title') or '')}), {esc(fx.clause(goal.get('clause')))}"),
        (fx.t("subject"), code(str(line.get("subject")))),
        (fx.t("point"), code(str(line.get("point")))),
        (fx.t("date"), esc(fx.date(line["date"]))),
        (fx.t("period"), esc(fx.period(line.get("period")))),
        (fx.t("payer"), f"{code(str(line.get('payer')))} ({esc(party_name(doc, line.get('payer')))})"),
        (fx.t("outcome"), esc(fx.num(line["outcome"]))),
        (fx.t("gross"), esc(fx.money(line["gross"]))),
        (fx.t("after_goal_cap"), esc(fx.money(line["after_goal_cap"]))),
        (fx.t("final"), esc(fx.money(line["amount"]))),
        (fx.t("split"), "; ".join(f"{code(p)} {esc(fx.money(v))}" for p, v in (line.get("split") or {}).items())),
    ]
    if marks:
        facts.append((fx.t("marks"), esc(", ".join(marks))))
    return facts


_KEY_KINDS = {"grant": "money", "reduction": "money", "clause": "clause"}


def key_label(key: str, fx: Formatter) -> str:
    """The label of a `details` or `reports` key: from the catalogue, else the key in words."""
    return fx.t(f"key.{key}") if f"key.{key}" in CATALOGUE else key.replace("_", " ")


def detail_value(key: str, value, fx: Formatter) -> str:
    """A value of `details` or `reports`: amounts by key (`grant`, `…_amount`), counts, numbers, nested parts."""
    kind = _KEY_KINDS.get(key)
    if value is None:
        return fx.t("none")
    if kind == "money" or (kind is None and fx.is_amount(value) and key.endswith(("amount", "limit"))):
        return fx.money(value)
    if kind == "clause":
        return fx.clause(value)
    if isinstance(value, (list, tuple)):
        return ", ".join(detail_value(key, v, fx) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{key_label(k, fx)} ({detail_value(k, v, fx)})" if isinstance(v, dict)
                         else f"{key_label(k, fx)}: {detail_value(k, v, fx)}" for k, v in value.items())
    return fx.value(value)


def titled(table: dict, key, mk: Plain) -> str:
    """A goal or metric of the document (`table`: by id) by the title the parties know it by, marked up; its id
    (as code) where it has none."""
    return mk.esc((table.get(key) or {}).get("title") or "") or mk.code(str(key or ""))


def margin_sentences(doc: dict, fx: Formatter, mk: Plain) -> list[str]:
    """The document's margins (`explain.margins`) in words: how far from each cap, tranche switch and target,
    naming goals, parties and metrics by their titles."""
    goals = goals_by_id(doc)
    metrics = {x["id"]: x for x in (doc.get("reports") or {}).get("metrics") or []}

    def say(key: str, **kw) -> str:  # the phrase marked up as the values are (escaped for HTML)
        return mk.tpl(fx.raw(key)).format(**kw)

    out = []
    for x in doc.get("margins") or []:
        kind, money = x.get("kind"), (lambda k: mk.esc(fx.money(x[k])))
        done = to_decimal(x.get("remaining", "1")) == 0
        if kind == "goal_cap":
            out.append(say("margin.goal_cap_bound" if done else "margin.goal_cap", goal=titled(goals, x["goal"], mk),
                            limit=money("limit"), remaining=money("remaining"), reached=money("reached")))
        elif kind == "return_cap":
            out.append(say("margin.return_cap_bound" if done else "margin.return_cap",
                            payer=mk.esc(party_name(doc, x["payer"])), limit=money("limit"),
                            remaining=money("remaining"), reached=money("reached"), cut=money("cut")))
        elif kind == "tranche":
            out.append(say("margin.tranche_passed" if done else "margin.tranche", tranche=x["tranche"],
                            until=money("until"), remaining=money("remaining")))
        elif kind in ("cap_per_year", "cap_per_subject"):
            owner = (say("margin.owner_goal", goal=titled(goals, x["cap"], mk)) if x["on"] == "goal"
                     else say("margin.owner_payer", payer=mk.esc(party_name(doc, x["cap"]))))
            if kind == "cap_per_year":
                out.append(say("margin.cap_per_year_bound" if done else "margin.cap_per_year", owner=owner,
                                limit=money("limit"), year=mk.esc(x["year"]), remaining=money("remaining"),
                                reached=money("reached")))
                continue
            text = say("margin.cap_per_subject", owner=owner, limit=money("limit"), bound=mk.esc(fx.count(x["bound"])),
                       subjects=mk.esc(fx.count(x["subjects"])))
            if x["nearest"]:
                text += say("margin.cap_per_subject_nearest", nearest=", ".join(
                    say("margin.cap_subject", subject=mk.code(n["subject"]), remaining=mk.esc(fx.money(n["remaining"])))
                    for n in x["nearest"]))
            out.append(text)
        elif kind == "target":
            target = mk.esc(fx.pct(x["target"]))
            out.append(say("margin.target_met", metric=titled(metrics, x["metric"], mk), target=target) if x["more"] == 0
                       else say("margin.target", more=mk.esc(fx.count(x["more"])), observed=mk.esc(fx.count(x["observed"])),
                                 metric=titled(metrics, x["metric"], mk), target=target))
    return out


def return_cap_sentence(doc: dict, fx: Formatter, mk: Plain) -> str:
    """The return cap in one sentence: payer, limit, clause, goals and what it cut."""
    rc, titles = doc["return_cap"], goals_by_id(doc)
    # In prose, a goal and a party by the titles the parties know them by (the id where there is none).
    goals = ", ".join(titled(titles, g, mk) for g in rc.get("goals") or []) or mk.esc(fx.t("all_goals"))
    payer = str(rc.get("payer"))
    name = party_name(doc, payer)
    return mk.tpl(fx.raw("return_cap_text")).format(
        payer=mk.esc(name) if name != payer else mk.code(payer), limit=mk.esc(fx.money(rc.get("limit"))), clause=mk.esc(fx.clause(rc.get("clause"))),
        goals=goals, cut=mk.esc(fx.money(doc.get("totals", {}).get("return_cap_cut", "0"))))


# ---- goals' prices and caps, results and figures: shared by every format ----------------------

def rate_text(goal: dict, fx: Formatter, mk: Plain = PLAIN) -> str:
    """A goal's price: `72.150,00 kr. pr. succes`, or the text of the expression that prices each line (as code)."""
    rate, per = goal.get("rate"), fx.code("per", goal.get("per"))
    if rate is None:
        return mk.esc(fx.t("none"))
    shown = mk.esc(fx.money(rate)) if is_number(rate) else mk.code(str(rate))
    return f"{shown} {mk.esc(per)}" if goal.get("per") else shown


def caps_text(goal: dict, fx: Formatter, mk: Plain = PLAIN) -> str:
    """A goal's own caps: `50.000,00 kr. pr. deltager; 1.400.000,00 kr.`, or `intet`."""
    caps = goal.get("caps")
    if caps is None:   # a document from before `caps`: the single whole-contract cap
        caps = [] if goal.get("cap") is None else [{"limit": goal["cap"], "per": None}]
    if not caps:
        return mk.esc(fx.t("no_cap"))
    return "; ".join(mk.esc(fx.money(c["limit"]) + (f" {cap_per(c['per'], fx)}" if c.get("per") else "")) for c in caps)


def metric_status(metric: dict, fx: Formatter) -> str:
    """A result against its target: `missed by 19.0 percentage points` / `mål ikke nået: 19,0 procentpoint under`."""
    if metric.get("target") is None:
        return fx.t("status_no_target")
    gap = metric.get("gap_pp")
    if not is_number(gap):
        return fx.t("status_no_data")
    d = to_decimal(gap, cut_short=True)
    met = metric.get("met")
    if met is None:
        met = d >= 0
    if met and d == 0:
        return fx.t("status_met_exactly")
    size = str(gap).lstrip("-")   # the gap without its sign: the sentence says above or below
    return fx.t("status_met_above" if met else "status_missed", gap=fx.pp(size))


def share_text(value, fx: Formatter) -> str:
    """A share in percent, every place kept; `no observed values` when the engine has none."""
    return fx.pct(value) if is_number(value) else fx.t("status_no_data")


def metric_cells(metric: dict, fx: Formatter) -> dict[str, str]:
    """A result's values in words, by column key (plain text; the caller escapes)."""
    return {"metric": metric.get("title") or metric.get("id", ""),
            "subjects": fx.count(metric.get("subjects", 0)),
            "count_met": fx.count(metric.get("count", 0)),
            "without_data": fx.count(metric.get("missing", 0)),
            "share_rounded": share_text(metric.get("share_rounded"), fx),
            "share_exact": share_text(metric.get("share"), fx),
            "target": fx.pct(metric["target"]) if metric.get("target") is not None else fx.t("none"),
            "against_target": metric_status(metric, fx),
            "clause": fx.clause(metric.get("clause"))}


def figure_value(figure: dict, fx: Formatter) -> str:
    """A figure's value with every place it has, as an amount or a percentage when its `unit` says so."""
    value, unit = figure.get("value"), figure.get("unit")
    if is_currency(unit) and is_number(value):  # the contract's currency
        return fx.money(value)
    if unit == "%" and is_number(value):
        return fx.pct((to_decimal(value) * 100).normalize())
    return fx.value(value)


def results(doc: dict) -> tuple[list[dict], list[dict]]:
    """The document's metrics and figures (empty lists when it has none)."""
    reports = doc.get("reports") or {}
    return list(reports.get("metrics") or []), list(reports.get("figures") or [])
