"""The shared vocabulary: the words the language, the ledger and the engine all use, in one place.

The checker validates a contract against these, the ledger reader validates its rows
against them, the engine and the interpreter evaluate them, and the documentation
lists them (docs/language.md, docs/ledger.md). A word added here is added everywhere.
"""

from __future__ import annotations

#: The groups of a household (`households.csv` column `group`).
GROUPS = ("intervention", "control")
#: Why a household's participation ended (`households.csv` column `end_reason`).
END_REASONS = ("completed", "moved", "dropped", "no_longer_needed", "other")
#: The modes of a `rounding` declaration, as Python's `decimal` names them in lower case (and `half_away_from_zero`,
#: `half_toward_zero`); every rounding is exact (`expressions.round_decimal`).
ROUNDING_MODES = ("half_up", "half_even", "half_down", "half_away_from_zero", "half_toward_zero",
                  "down", "up", "ceiling", "floor")
#: The units of a duration (`start + 6 months`).
DURATIONS = ("months", "days", "years", "weeks")
#: The built-in functions of expressions: name -> (fewest arguments, most arguments, what they are).
FUNCTIONS = {
    "max": (1, 99, "one or more values"),
    "min": (1, 99, "one or more values"),
    "abs": (1, 1, "one value"),
    "round": (2, 2, "a value and the name of a rounding"),
    "previous": (1, 2, "a measure and a default value"),
    "deviation": (3, 4, "a goal, a measure@point, a table column and optionally the total to divide by"),
    "total": (1, 1, "a measure (or measure@point)"),
    "mean": (1, 1, "a measure (or measure@point)"),
    "size": (1, 1, "a group of the comparison (the number of its subjects observed at the point)"),
    "irr": (1, 1, "a party (the internal rate of return of what it invests and is repaid)"),
    "multiple": (1, 1, "a party (what it is repaid divided by what it invests)"),
}
#: What a subject is: a person has these attributes and its household's.
PERSON_ATTRIBUTES = ("age", "school_grade")
HOUSEHOLD_ATTRIBUTES = ("start_date", "end_date", "end_reason", "ended", "replaced", "cohort", "group")
#: The subject of a pooled comparison's line (`compare … pooled`): the subjects of every cohort together.
POOLED = "pooled"
