"""Mutations the quick fuzz run in CI leaves out, because they reproduce a defect recorded in FINDINGS.md.

Each entry names the finding (F-number in tests/fuzz/FINDINGS.md, reproducers in
tests/fuzz/findings/). When the fix of a finding lands, delete its entry here: the
quick run then covers that mutation again and guards the fix. `bench/fuzz.py`
never uses these exclusions.
"""

from __future__ import annotations

#: mutation name -> (targets it is left out for, the finding it reproduces)
ALL = ("check", "fmt", "convert", "settle", "explain")
SETTLING = ("settle", "explain")
WRITING = ("convert", "settle")

KNOWN: dict[str, tuple[tuple[str, ...], str]] = {
    "huge_int": (ALL, "F1"),                 # an integer of 4,400 digits in a contract: ValueError in parse
    "o_dir": (WRITING, "F2"),                # -o names a directory: IsADirectoryError
    "o_devfull": (WRITING, "F3"),            # -o /dev/full: OSError (ENOSPC) traceback
    "o_missing_parent": (WRITING, "F4"),     # -o in a directory that does not exist: FileNotFoundError
    "gen_month_overflow": (SETTLING, "F5"),  # start + 99,999 months: ValueError/OverflowError in add_months
    "gen_extreme_dates": (SETTLING, "F5"),   # a programme up to 9999-12-31: a point past year 9999
    "date_edit": (SETTLING, "F5"),
    "gen_big_rate": (SETTLING, "F6"),        # a rate of 10^39 or 10^48: decimal.InvalidOperation (F7, F15 in reports)
    "gen_big_cap": (SETTLING, "F6"),
    "number_blowup": (SETTLING, "F6"),
    "non_ascii_digits": (SETTLING, "F8"),    # school_grade '²': ValueError from int()
    "special_dir": (SETTLING, "F9"),         # a directory named households.csv: IsADirectoryError
    "special_fifo": (SETTLING, "F10"),       # a FIFO named persons.csv: the read never returns
    "special_devzero": (SETTLING, "F11"),    # persons.csv -> /dev/zero: reads until MemoryError
    "huge_number": (SETTLING, "F12"),        # a 5,000-digit ledger value: ValueError from int()
    "extreme_exponent": (SETTLING, "F13"),   # 1E-999999 in a ledger value: the settlement does not finish
    "gen_untitled": (("settle",), "F14"),    # a goal without a title: AttributeError in the Markdown report
    "hostile_id": (("settle",), "F16"),      # a ledger id '=1+1' becomes a formula cell in xlsx (and F17 in Markdown)
    "gen_hostile_id": (("settle",), "F16"),
    "dup_column": (SETTLING, "F18"),         # a header naming a column twice is read, the last copy winning
}


def quick_exclude(target: str) -> frozenset[str]:
    """The mutations left out of the quick run for `target`."""
    return frozenset(name for name, (targets, _) in KNOWN.items() if target in targets)
