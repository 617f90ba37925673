"""The ledger's vocabulary and limits: its files and columns, groups, end reasons, and what a value may be.

The limits are kept together at the top so that they can move, as they are, to one module of
limits for the whole engine.
"""

from __future__ import annotations

import datetime as dt
import difflib
import functools
import re
import sys
from decimal import Decimal, InvalidOperation

from .. import model as m

# ---- limits: what a ledger may hold (hostile input is refused with a located error) -------------
#: A ledger file larger than this is refused before it is read; at most this many bytes + 1 are read.
MAX_FILE_BYTES = 2_000_000_000
#: A numeric cell longer than this is refused before it is parsed.
MAX_NUMBER_CHARS = 64
#: Digits in the coefficient of a decimal or integer value (`1.250` has 4): Decimal's default precision.
MAX_VALUE_DIGITS = 28
#: Decimal places of a value (`1E-28` has 28) and order of magnitude (a value is below 1E+28).
#: `1E-999999` and `1E+999999` would otherwise turn a settlement of megabytes into hundreds.
MAX_VALUE_EXPONENT = 28
#: A cell quoted in a diagnostic is cut to this many characters.
MAX_SHOWN_CHARS = 60
#: "Did you mean" is worked out for this many rows of one check; a flood of errors gets none after.
MAX_HINTED_ROWS = 1000

# ---- the vocabulary ---------------------------------------------------------------------------
from ..vocabulary import END_REASONS, GROUPS  # noqa: E402  (the language's words, checked here in the rows)

FILES = {
    "households.csv": ("household_id", "group", "start_date", "end_date", "end_reason", "replaces", "cohort"),
    "persons.csv": ("person_id", "household_id", "birth_date", "school_grade"),
    "cohorts.csv": ("cohort", "start_date"),
    "measurements.csv": ("subject_id", "measure", "point", "date", "value"),
    # Not LEDGER.md's: what was paid for each period, by whom and to whom (optional; docs/semantics.md).
    "payments.csv": ("period", "payer", "recipient", "amount", "paid_on", "reference"),
}
#: Columns a file may add to those of LEDGER.md: when a measurement was delivered to the evaluator (a
#: correction is a later delivery of the same measurement; `settle --known-as-of`).
OPTIONAL = {"measurements.csv": ("delivered_on",)}


def columns(name: str) -> tuple[str, ...]:
    """Every column a ledger file may have: LEDGER.md's, then the optional ones."""
    return FILES[name] + OPTIONAL.get(name, ())
REQUIRED = {"household_id", "group", "start_date", "person_id", "birth_date", "cohort",
            "subject_id", "measure", "point", "value", "period", "payer", "recipient", "amount", "paid_on"}

#: The characters Python's `str.strip()` removes, so that Polars strips cells exactly as the
#: reader always has (tests/test_ledger.py checks this against `str.isspace`).
WHITESPACE = ("\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
              "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000")

#: A ledger date: ISO `YYYY-MM-DD` in ASCII digits (Python's `isdigit` and `fromisoformat` accept more).
DATE_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
#: A ledger number: ASCII digits, an optional sign, point and exponent (Decimal also takes
#: `٣`, `1_000`, `NaN` and `Infinity`; the ledger format does not).
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?", re.ASCII)


def show(text: str) -> str:
    """A cell as quoted in a message: cut to MAX_SHOWN_CHARS, control characters escaped."""
    if len(text) > MAX_SHOWN_CHARS:
        text = text[:MAX_SHOWN_CHARS - 1] + "…"
    if not text.isprintable():
        text = "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)
    return text


@functools.lru_cache(maxsize=4096)
def close_match(text: str, choices: tuple[str, ...]) -> str | None:
    """The choice closest to `text` (for "did you mean"), or None; long texts are not compared."""
    if len(text) > 4 * MAX_SHOWN_CHARS:
        return None
    found = difflib.get_close_matches(text, choices, n=1)
    return found[0] if found else None


def parse_value(measure: m.Measure | m.Attribute, text: str):
    """Turn a CSV cell into the measure's (or attribute's) type; raise ValueError with a reason."""
    if measure.kind == "date":
        if not re.fullmatch(DATE_PATTERN, text):
            raise ValueError(f"'{show(text)}' is not a date in the form YYYY-MM-DD")
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            raise ValueError(f"'{show(text)}' is not a date of the calendar") from None
    if measure.kind == "enum":
        if text not in measure.values:
            close = close_match(text, tuple(measure.values))
            raise ValueError(f"'{show(text)}' is not a value of {measure.id}"
                             + (f"; did you mean '{close}'?" if close else f" (one of {', '.join(measure.values)})"))
        return sys.intern(text)  # one copy of each enum value, not one per row
    if measure.kind == "boolean":
        if text not in ("true", "false"):
            raise ValueError(f"'{show(text)}' is not a boolean; write true or false")
        return text == "true"
    number = _number(text)
    if measure.kind == "integer" and number != number.to_integral_value():
        raise ValueError(f"'{text}' is not a whole number")
    if measure.low is not None and number < measure.low or measure.high is not None and number > measure.high:
        raise ValueError(f"{text} is outside the range {measure.low} to {measure.high} of {measure.id}")
    return int(number) if measure.kind == "integer" else number


def _number(text: str) -> Decimal:
    """A ledger number within the limits above, or ValueError saying which rule it breaks."""
    if len(text) > MAX_NUMBER_CHARS:
        raise ValueError(f"'{show(text)}' is too long for a number (at most {MAX_NUMBER_CHARS} characters)")
    if not _NUMBER.fullmatch(text):
        if any(c.isdigit() and not c.isascii() for c in text):
            raise ValueError(f"'{show(text)}' is not a number: write digits 0-9 (decimals use '.')")
        raise ValueError(f"'{show(text)}' is not a number (decimals use '.')")
    try:
        number = Decimal(text)
    except InvalidOperation:  # an exponent beyond what Decimal can hold at all
        raise ValueError(f"'{text}' has an exponent out of bounds; a ledger value has at most "
                         f"{MAX_VALUE_EXPONENT} decimal places and is below 1E+{MAX_VALUE_EXPONENT}") from None
    sign, digits, exponent = number.as_tuple()
    if len(digits) > MAX_VALUE_DIGITS:
        raise ValueError(f"'{text}' has {len(digits)} digits; a ledger value has at most {MAX_VALUE_DIGITS}")
    if exponent < -MAX_VALUE_EXPONENT:
        raise ValueError(f"'{text}' has {-exponent} decimal places; a ledger value has at most {MAX_VALUE_EXPONENT}")
    if number.adjusted() >= MAX_VALUE_EXPONENT:
        raise ValueError(f"'{text}' is too large; a ledger value is below 1E+{MAX_VALUE_EXPONENT}")
    return number
