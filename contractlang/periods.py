"""periods: the settlement's periods — which period a date falls in, the period a name names, its due date.

Periods divide calendar years, or years that begin on the first of another month (a financial year); the
document names them (`2024-H2`, `2024/25-Q1`, `2024-07`, `2024`), payments.csv refers to them by those names,
and a period is paid by its due date (`due end of following quarter`).
"""

from __future__ import annotations

import datetime as dt
import functools
import re

from . import model as m
from .expressions import add_months


@functools.lru_cache(maxsize=4096)  # called for every line; lines share few dates
def period_of(date: dt.date, settlement: m.Settlement | None) -> tuple[str, dt.date, dt.date]:
    """The settlement period holding `date`: its name, first and last day (without a `settlement` block,
    half-years). Periods divide calendar years, or (`from MM-01`) years that begin on the first of another
    month, named by the calendar years they span (`2024/25`, `2024/25-Q1`); a month is named by itself
    (`2024-07`)."""
    periods, year_start = (settlement.periods, settlement.year_start) if settlement else ("half-yearly", None)
    months = {"half-yearly": 6, "quarterly": 3, "yearly": 12, "monthly": 1}.get(periods, 6)
    shift = int(year_start[:2]) - 1 if year_start else 0  # months from January to the year's first month
    offset = (date.year * 12 + date.month - 1) - shift      # months since the start of year 0 of the contract's years
    year, within = divmod(offset, 12)
    index = within // months
    first_month = year * 12 + shift + index * months
    first = dt.date(first_month // 12, first_month % 12 + 1, 1)
    last = add_months(first, months) - dt.timedelta(days=1)
    if months == 1:
        return f"{first.year}-{first.month:02d}", first, last
    label = f"{year}/{(year + 1) % 100:02d}" if shift else f"{year}"
    name = {6: f"{label}-H{index + 1}", 3: f"{label}-Q{index + 1}", 12: label}[months]
    return name, first, last


_PERIOD_NAME = re.compile(r"(\d{4})(?:/\d{2})?(?:-(?:H|Q)?(\d{1,2}))?")


def period_named(name: str, settlement: m.Settlement | None) -> tuple[str, dt.date, dt.date] | None:
    """The period of the contract's settlement named `name` (as `period_of` names it), or None when no period
    of it has that name (`2024-H3`, or `2024-Q1` in a contract settled half-yearly)."""
    found = _PERIOD_NAME.fullmatch(name)
    if found is None:
        return None
    year, index = int(found[1]), int(found[2] or 1)
    periods, year_start = (settlement.periods, settlement.year_start) if settlement else ("half-yearly", None)
    months = {"half-yearly": 6, "quarterly": 3, "yearly": 12, "monthly": 1}.get(periods, 6)
    shift = int(year_start[:2]) - 1 if year_start and months > 1 else 0
    first_month = year * 12 + shift + (index - 1) * months
    if not (1 <= index <= 12 and dt.MINYEAR <= first_month // 12 < dt.MAXYEAR):
        return None
    period = period_of(dt.date(first_month // 12, first_month % 12 + 1, 1), settlement)
    return period if period[0] == name else None


def due_date(last: dt.date, due: str) -> dt.date:
    """`end of following quarter|month|half-year` after a period's last day."""
    months = {"quarter": 3, "month": 1, "half-year": 6}.get(due.rsplit(" ", 1)[-1], 3)
    return add_months(last + dt.timedelta(days=1), months) - dt.timedelta(days=1)
