"""limits: every bound contractlang puts on its input and its output, in one place.

A contract that passes `check` must settle and render in every format without
an error the checker could have foreseen. Each limit here is the reason for one
located diagnostic (`CL018` for a contract's numbers and dates, CL002 for the
file itself), checked before anything is settled. `docs/threat-model.md` lists
them; a test keeps the two in agreement.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal


# ---- the contract file ---------------------------------------------------------------------

#: Bytes a contract file may hold.
MAX_BYTES = 1_000_000
#: Brackets nested deeper than this are refused before parsing.
MAX_NESTING = 64
#: Syntax errors reported per file before the parser gives up.
MAX_ERRORS = 25
#: Versions of a contract (`amends` followed from file to file) read before the chain is refused.
MAX_VERSIONS = 32

# ---- numbers and dates written in a contract -----------------------------------------------

#: Digits before the decimal point of a number (below 10^15: far above any real contract's figures).
MAX_INTEGER_DIGITS = 15
#: Digits after the decimal point of a number.
MAX_FRACTION_DIGITS = 10
#: The largest amount of money a contract may state (10^12); an amount in øre then has at most
#: 15 significant digits, which a spreadsheet holds exactly.
MAX_AMOUNT = Decimal(10) ** 12
#: The largest number of months a point offset, a stay, a window or `date + N months` may count
#: (a hundred years).
MAX_MONTHS = 1200
#: The dates a contract may name; with `MAX_MONTHS` every date the engine derives from them stays
#: far inside what a date and a spreadsheet can hold.
FIRST_DATE = dt.date(1900, 3, 1)
LAST_DATE = dt.date(2199, 12, 31)

# ---- what the reports can hold ---------------------------------------------------------------

#: Significant digits a spreadsheet number keeps exactly (IEEE double); a longer value is written as text.
SPREADSHEET_DIGITS = 15
#: The dates a spreadsheet shows as dates (Excel's serial dates are wrong before 1900-03-01);
#: a date outside is written as its ISO text.
SPREADSHEET_FIRST_DATE = dt.date(1900, 3, 1)
SPREADSHEET_LAST_DATE = dt.date(9999, 12, 31)
#: Characters a spreadsheet cell holds; a longer text is cut, saying so (the JSON keeps it whole).
SPREADSHEET_CELL_CHARS = 32_767

def number_problem(integer_digits: int, fraction_digits: int) -> str | None:
    """Why a number with these digit counts is refused, or None when it is within the limits."""
    if integer_digits > MAX_INTEGER_DIGITS:
        return (f"has {integer_digits:,} digits before the decimal point; a number in a contract may have at most "
                f"{MAX_INTEGER_DIGITS}")
    if fraction_digits > MAX_FRACTION_DIGITS:
        return (f"has {fraction_digits:,} digits after the decimal point; a number in a contract may have at most "
                f"{MAX_FRACTION_DIGITS}")
    return None


def text_number_problem(text: str) -> str | None:
    """`number_problem` for a number as written (`1_400_000.50`), counted without converting it."""
    whole, _, fraction = text.replace("_", "").lstrip("-").partition(".")
    return number_problem(len(whole.lstrip("0")), len(fraction))


def decimal_problem(value: Decimal) -> str | None:
    """`number_problem` for a Decimal (from either form of a contract), without converting it to text."""
    if not value.is_finite():
        return "is not a finite number"
    t = value.as_tuple()
    exp = t.exponent
    digits = len(t.digits) if any(t.digits) else 0
    return number_problem(max(0, digits + exp), max(0, -exp))


def date_problem(day: dt.date) -> str | None:
    """Why a date named in a contract is refused, or None."""
    if not FIRST_DATE <= day <= LAST_DATE:
        return f"lies outside {FIRST_DATE.isoformat()} to {LAST_DATE.isoformat()}, the dates a contract may name"
    return None
