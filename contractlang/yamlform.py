"""yamlform: the YAML form of a contract model (`dump_yaml`, `load_yaml`).

The scheme mirrors the model (contractlang/model.py) one to one:

* Every node is a mapping whose keys are the model's attribute names, in the
  model's field order; a value equal to the field's default is left out. The
  top level is the `Contract` (`id`, `title`, `clause`, `currency`, `parties`,
  … `decisions`, `acknowledgements`); lists of nodes are YAML lists of mappings.
* Names (ids, parties, points, enum values …) are plain strings; lists of names
  are flow lists: `points: [m12, m18, m24]`.
* A quantity is one string, number then unit: `1_400_000 DKK`, `5.07 %`,
  `12 months`, or a bare number (`39`). A quantity with an assumption is a
  mapping: `{value: 18_000, unit: DKK, assumption: "why this figure"}`.
* A table row's `cells` is a flow list of quantities, names (a symbol) and `-`
  (an empty cell): `cells: [education_employment, 39, 50 %]`.
* Dates are ISO dates (`2023-11-01`; quoted or not); `capitalisation` is `MM-DD`;
  a measure's `low`/`high` are numbers.
* Expressions (`where`, `outcome`, `expr`, `when`, `share`) are DSL expression
  strings, parsed with the contract grammar: `outcome: max(0, a@baseline - a@m24)`.
  A `match` is written on several lines as a literal block (`|`).

Numbers are read from the YAML source text, never through floats, so `5.07`
stays exactly 5.07. Loading uses PyYAML's SafeLoader only: the event stream is
scanned first (file size at most 1 MB, nesting at most 64 deep, no anchors,
aliases or non-standard tags), then the node tree is composed and the model is
built from the nodes. Every problem becomes a `CL030` diagnostic naming the
YAML path (`$.goals[2].rate`) and the file, line and column; all are collected
and raised together as one `ParseError`.
"""

from __future__ import annotations

import datetime as dt
import difflib
import functools
import re
import typing
from decimal import Decimal

import attrs
import yaml
from lark import Lark
from lark.exceptions import UnexpectedEOF, UnexpectedInput, UnexpectedToken, VisitError

from . import model as m
from .parse import MAX_BYTES, _Builder, _grammar_path, _prescan, _syntax_diagnostic, parse_file
from .errors import ParseError, error
from .limits import text_number_problem
from .printer import format_expr, format_number, format_quantity

MAX_DEPTH = 64
MAX_ERRORS = 100
CODE = "CL030"

_Y = "tag:yaml.org,2002:"
_STR, _INT, _FLOAT, _BOOL, _NULL, _TIME = (_Y + t for t in ("str", "int", "float", "bool", "null", "timestamp"))
_TAGS = {None, "!", _STR, _INT, _FLOAT, _BOOL, _NULL, _TIME, _Y + "seq", _Y + "map"}

_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*\Z")
_NUMBER = re.compile(r"\d+(_\d\d\d)*(\.\d+)?\Z")
_SIGNED = re.compile(r"-?\d+(_\d\d\d)*(\.\d+)?\Z")
_DATE = re.compile(r"\d\d\d\d-\d\d-\d\d\Z")

# ---- the scheme: how each model field is written --------------------------------------

_SKIP = {"span", "source", "path"}
_TEXT = {"title", "label", "file", "decisions", "assumption", "data_collection_assumption", "intervention_assumption",
         "reason"}
_CHOICES = {
    (m.Quantity, "unit"): m.UNITS,
    (m.Column, "unit"): m.UNITS,
    (m.Measure, "level"): ("person", "household"),
    (m.Measure, "kind"): ("enum", "boolean", "integer", "decimal"),
    (m.Attribute, "level"): ("person", "household"),
    (m.Attribute, "kind"): ("enum", "boolean", "integer", "decimal", "date"),
    (m.Goal, "level"): ("persons", "households"),
    (m.Goal, "conditions"): ("strict", "three-valued"),
    (m.Metric, "level"): ("persons", "households"),
    (m.Point, "anchor"): ("start", "end"),
    (m.Row, "kind"): ("row", "sum"),
    (m.Missing, "method"): ("mean", "zero", "observed only", "none"),
    (m.Settlement, "periods"): ("monthly", "quarterly", "half-yearly", "yearly"),
    (m.Settlement, "due"): tuple("end of following " + u for u in ("quarter", "month", "half-year")),
    (m.Adjustment, "rule"): ("each", "until", "once"),
    (m.Settlement, "floor"): ("zero", "carried forward"),
    (m.Link, "kind"): m.LINK_KINDS,
}
_MONTH_DAY = re.compile(r"(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])\Z")
#: Lists the grammar never lets be empty.
_NONEMPTY = {(m.Instalment, "amounts"), (m.Table, "columns"), (m.TableCheck, "terms"), (m.Row, "cells"),
             (m.Row, "of"), (m.Measure, "points"), (m.ReturnCap, "goals"), (m.Tranche, "shares"),
             (m.Tranches, "tranches"), (m.Settlement, "order"), (m.Tiers, "tiers")}


@attrs.frozen
class _Field:
    name: str
    kind: tuple
    optional: bool
    required: bool
    default: object


def _classify(cls, name: str, tp) -> tuple:
    if tp == m.Expr:
        return ("expr",)
    if tp == m.Cell:
        return ("cell",)
    if tp is m.Quantity:
        return ("quantity",)
    if typing.get_origin(tp) is tuple:
        return ("list", _classify(cls, name, typing.get_args(tp)[0]), (cls, name) in _NONEMPTY)
    if tp is str:
        if name in _TEXT or name.endswith("clause") or (cls is m.Party and name == "name"):
            return ("text",)
        if (cls, name) in _CHOICES:
            return ("choice", _CHOICES[(cls, name)])
        if (cls, name) in ((m.Interest, "capitalisation"), (m.Settlement, "year_start")):
            return ("month_day",)
        return ("name",)
    for simple, kind in ((bool, "bool"), (int, "int"), (Decimal, "decimal"), (dt.date, "date")):
        if tp is simple:
            return (kind,)
    if attrs.has(tp):
        return ("node", tp)
    raise TypeError(f"{cls.__name__}.{name}: no YAML form for {tp}")  # pragma: no cover


@functools.lru_cache(maxsize=None)
def _spec(cls) -> dict[str, _Field]:
    hints = typing.get_type_hints(cls)
    out = {}
    for a in attrs.fields(cls):
        if a.name in _SKIP:
            continue
        tp, args = hints[a.name], typing.get_args(hints[a.name])
        optional = type(None) in args
        if optional:
            rest = tuple(x for x in args if x is not type(None))
            tp = rest[0] if len(rest) == 1 else typing.Union[rest]
        out[a.name] = _Field(a.name, _classify(cls, a.name, tp), optional, a.default is attrs.NOTHING, a.default)
    return out


# ---- dump ------------------------------------------------------------------------------

class _Plain(str):
    """A scalar written without quotes when YAML reads it back as the same text (numbers, dates)."""


class _Flow(list):
    """A list written on one line: `[a, b, c]`."""


class _Dumper(yaml.SafeDumper):
    def increase_indent(self, flow=False, indentless=False):
        return super().increase_indent(flow, False)


def _represent_plain(dumper, data):
    tag = dumper.resolve(yaml.ScalarNode, str(data), (True, False))
    return dumper.represent_scalar(tag if tag in (_INT, _FLOAT, _TIME) else _STR, str(data))


def _represent_str(dumper, data):
    return dumper.represent_scalar(_STR, data, style="|" if "\n" in data else None)


_Dumper.add_representer(_Plain, _represent_plain)
_Dumper.add_representer(str, _represent_str)
_Dumper.add_representer(_Flow, lambda d, data: d.represent_sequence(_Y + "seq", data, flow_style=True))


def _dump_quantity(q: m.Quantity):
    if q.assumption is None:
        return _Plain(format_quantity(q))
    out = {"value": _Plain(format_number(q.value))}
    if q.unit is not None:
        out["unit"] = q.unit
    out["assumption"] = q.assumption
    return out


def _dump_value(kind: tuple, v):
    k = kind[0]
    if k == "list":
        items = [_dump_value(kind[1], x) for x in v]
        return _Flow(items) if kind[1][0] in ("name", "cell") else items
    if k == "node":
        return _dump_node(v)
    if k == "quantity":
        return _dump_quantity(v)
    if k == "cell":
        if isinstance(v, m.Quantity):
            return _dump_quantity(v)
        return v.name if isinstance(v, m.Symbol) else "-"
    if k == "expr":
        return format_expr(v, "", 0)
    if k == "decimal":
        return _Plain(("-" + format_number(-v)) if v < 0 else format_number(v))
    return v  # names, texts, choices, ints, bools, dates


def _dump_node(obj) -> dict:
    out = {}
    for f in _spec(type(obj)).values():
        v = getattr(obj, f.name)
        if v is None or (not f.required and v == f.default):
            continue
        out[f.name] = _dump_value(f.kind, v)
    return out


def dump_yaml(contract: m.Contract) -> str:
    """The YAML form of `contract` (canonical: model field order, defaults left out)."""
    return yaml.dump(_dump_node(contract), Dumper=_Dumper, sort_keys=False, allow_unicode=True,
                     default_flow_style=False, width=100, indent=2)


# ---- load ------------------------------------------------------------------------------

@functools.lru_cache(maxsize=1)
def _fragment_parser() -> Lark:
    """The contract grammar entered at `expr` or `quantity` (for strings inside YAML)."""
    return Lark(_grammar_path().read_text(encoding="utf-8"), parser="lalr", start=["expr", "quantity"],
                propagate_positions=True, maybe_placeholders=False)


_BAD = object()  # a value that could not be built; its diagnostics are already recorded


def _found(node) -> str:
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    return {_INT: "a whole number", _FLOAT: "a number", _BOOL: "true/false", _NULL: "nothing",
            _TIME: "a date"}.get(node.tag, "a text") + f" ({node.value!r})"


def _want(kind: tuple) -> str:
    k = kind[0]
    return {
        "text": "a text", "name": "a name", "int": "a whole number", "bool": "true or false",
        "decimal": "a number", "date": "a date (YYYY-MM-DD)", "month_day": "a day of the year (MM-DD)",
        "expr": "an expression", "quantity": "a quantity such as 1_400_000 DKK",
        "cell": "a quantity, a name or -",
    }.get(k) or (f"one of {', '.join(kind[1])}" + (" or a currency (DKK, GBP, EUR …)" if kind[1] is m.UNITS else "")
                 if k == "choice" else
                 f"a list of {_want(kind[1]).removeprefix('a ').removeprefix('an ')}s" if k == "list" else
                 f"a mapping (a {kind[1].__name__.lower()})")


class _Loader:
    """Builds a model from a YAML text, collecting CL030 diagnostics."""

    def __init__(self, text: str, path: str):
        self.text, self.path = text, path
        self.diags: list = []
        self.count = 0

    # -- diagnostics
    def _span(self, node) -> m.SourceSpan:
        a, b = node.start_mark, node.end_mark
        return m.SourceSpan(self.path, a.line + 1, a.column + 1, b.line + 1, b.column + 1)

    def fail(self, where, message: str, hint: str | None = None) -> object:
        """Record one diagnostic; `where` is a node, a mark or a (line, column) pair."""
        self.count += 1
        if isinstance(where, tuple):
            span = m.SourceSpan(self.path, where[0], where[1])
        elif isinstance(where, yaml.Node):
            span = self._span(where)
        else:
            span = m.SourceSpan(self.path, where.line + 1, where.column + 1)
        if len(self.diags) < MAX_ERRORS:
            self.diags.append(error(CODE, message, span, hint=hint))
        return _BAD

    # -- pass 1: the event stream (no recursion, nothing constructed)
    def scan(self) -> bool:
        depth = 0
        try:
            for ev in yaml.parse(self.text, Loader=yaml.SafeLoader):
                if isinstance(ev, yaml.AliasEvent):
                    self.fail(ev.start_mark, f"$: alias '*{ev.anchor}': anchors and aliases are not allowed")
                    continue
                if isinstance(ev, yaml.NodeEvent) and ev.anchor:
                    self.fail(ev.start_mark, f"$: anchor '&{ev.anchor}': anchors and aliases are not allowed")
                if isinstance(ev, yaml.NodeEvent) and getattr(ev, "tag", None) not in _TAGS:
                    self.fail(ev.start_mark, f"$: the tag '{ev.tag}' is not allowed",
                              hint="the YAML form uses plain YAML only: mappings, lists, texts, numbers, dates")
                if isinstance(ev, yaml.CollectionStartEvent):
                    depth += 1
                    if depth > MAX_DEPTH:
                        self.fail(ev.start_mark, f"$: the YAML is nested more than {MAX_DEPTH} deep")
                        return False
                elif isinstance(ev, yaml.CollectionEndEvent):
                    depth -= 1
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            self.fail(mark or (1, 1), f"$: not valid YAML: {exc.problem or exc}")
            return False
        except yaml.YAMLError as exc:  # pragma: no cover - every PyYAML parse error is marked
            self.fail((1, 1), f"$: not valid YAML: {exc}")
            return False
        return self.count == 0

    # -- pass 2: nodes → model
    def load(self) -> m.Contract | None:
        if not self.scan():
            return None
        try:
            root = yaml.compose(self.text, Loader=yaml.SafeLoader)
        except yaml.YAMLError as exc:
            self.fail(getattr(exc, "problem_mark", None) or (1, 1), f"$: not valid YAML: {exc}")
            return None
        if root is None:
            self.fail((1, 1), "$: the file is empty; expected a mapping with the contract's 'id' and its parts")
            return None
        contract = self.node(m.Contract, root, "$")
        if contract is _BAD:
            return None
        return attrs.evolve(contract, source=self.text, path=self.path)

    def node(self, cls, node, path: str):
        if not isinstance(node, yaml.MappingNode):
            return self.fail(node, f"{path}: expected {_want(('node', cls))}, found {_found(node)}")
        spec = _spec(cls)
        before, values, seen = self.count, {}, set()
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            if not isinstance(key, str):
                self.fail(key_node, f"{path}: a key must be a plain name, found {_found(key_node)}")
                continue
            field = spec.get(key)
            if field is None:
                close = difflib.get_close_matches(key, list(spec), n=1, cutoff=0.6)
                self.fail(key_node, f"{path}: unknown key '{key}'" + (f"; did you mean '{close[0]}'?" if close else ""),
                          hint=f"the keys here are: {', '.join(spec)}")
                continue
            if key in seen:
                self.fail(key_node, f"{path}: the key '{key}' is given twice")
                continue
            seen.add(key)
            sub = f"{path}.{key}"
            if isinstance(value_node, yaml.ScalarNode) and value_node.tag == _NULL:
                if field.required:
                    self.fail(value_node, f"{sub}: needs {_want(field.kind)}")
                continue
            values[key] = self.value(field.kind, value_node, sub)
        for name, field in spec.items():
            if field.required and name not in seen:
                self.fail(node, f"{path}: '{name}' is missing; expected {_want(field.kind)}")
        if self.count > before:
            return _BAD
        obj = cls(**values, span=self._span(node))
        for problem in _consistency(obj):
            self.fail(node, f"{path}: {problem}")
        return _BAD if self.count > before else obj

    def value(self, kind: tuple, node, path: str):
        k = kind[0]
        if k == "node":
            return self.node(kind[1], node, path)
        if k == "list":
            if not isinstance(node, yaml.SequenceNode):
                return self.fail(node, f"{path}: expected {_want(kind)}, found {_found(node)}")
            if kind[2] and not node.value:
                return self.fail(node, f"{path}: the list may not be empty")
            items = [self.value(kind[1], n, f"{path}[{i}]") for i, n in enumerate(node.value)]
            return _BAD if _BAD in items else tuple(items)
        if k == "quantity":
            return self.quantity(node, path)
        if k == "cell":
            if isinstance(node, yaml.ScalarNode) and node.tag != _NULL:
                raw = node.value.strip()
                if raw == "-":
                    return m.Empty(span=self._span(node))
                if _NAME.match(raw):
                    return m.Symbol(name=raw, span=self._span(node))
            return self.quantity(node, path)
        if not isinstance(node, yaml.ScalarNode) or node.tag == _NULL:
            return self.fail(node, f"{path}: expected {_want(kind)}, found {_found(node)}")
        return self.scalar(kind, node, path)

    def scalar(self, kind: tuple, node, path: str):
        k, raw = kind[0], node.value
        if k == "text":
            if "\n" in raw:
                return self.fail(node, f"{path}: a text must stay on one line")
            if path.endswith("assumption") and not raw:
                return self.fail(node, f"{path}: an assumption needs a text saying what is assumed")
            return raw
        if k == "name":
            if not _NAME.match(raw):
                return self.fail(node, f"{path}: '{raw}' is not a name (letters, digits and _, not starting with a digit)")
            return raw
        if k == "choice":
            if raw not in kind[1] and not (kind[1] is m.UNITS and m.is_currency(raw)):  # a unit, or a currency
                close = difflib.get_close_matches(raw, kind[1], n=1)
                return self.fail(node, f"{path}: '{raw}' is not allowed here; expected {_want(kind)}"
                                 + (f"; did you mean '{close[0]}'?" if close else ""))
            return raw
        if k == "month_day":
            return raw if _MONTH_DAY.match(raw) else self.fail(node, f"{path}: '{raw}' is not {_want(kind)}")
        if k == "int":
            if not re.fullmatch(r"\d+", raw):
                return self.fail(node, f"{path}: expected {_want(kind)}, found {_found(node)}")
            return self._beyond_limits(node, path, raw) or int(raw)
        if k == "bool":
            if node.tag != _BOOL:
                return self.fail(node, f"{path}: expected true or false, found {_found(node)}")
            return raw.lower() in ("true", "yes", "on", "y")
        if k == "decimal":
            if not _SIGNED.match(raw):
                return self.fail(node, f"{path}: expected {_want(kind)} (e.g. 0, -5 or 2.5), found {_found(node)}")
            return self._beyond_limits(node, path, raw) or Decimal(raw.replace("_", ""))
        if k == "date":
            try:
                if _DATE.match(raw):
                    return dt.date.fromisoformat(raw)
            except ValueError:
                return self.fail(node, f"{path}: '{raw}' is not a calendar date")
            return self.fail(node, f"{path}: expected {_want(kind)}, found {_found(node)}")
        if k == "expr":
            return self.fragment(node, path, "expr")
        raise AssertionError(kind)  # pragma: no cover

    def _beyond_limits(self, node, path: str, raw: str) -> object:
        """A failure when a number has more digits than `contractlang.limits` allows, else None."""
        problem = text_number_problem(raw)
        if problem:
            shown = raw if len(raw) <= 24 else raw[:20] + "…"
            return self.fail(node, f"{path}: the number {shown} {problem}")
        return None

    def quantity(self, node, path: str):
        if isinstance(node, yaml.ScalarNode) and node.tag != _NULL:
            return self.fragment(node, path, "quantity")
        if not isinstance(node, yaml.MappingNode):
            return self.fail(node, f"{path}: expected {_want(('quantity',))}, found {_found(node)}")
        before, parts = self.count, {}
        kinds = {"value": ("number",), "unit": ("choice", m.UNITS), "assumption": ("text",)}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            if key not in kinds:
                close = difflib.get_close_matches(str(key), list(kinds), n=1)
                self.fail(key_node, f"{path}: unknown key '{key}' in a quantity"
                          + (f"; did you mean '{close[0]}'?" if close else ""), hint="the keys are: value, unit, assumption")
            elif not isinstance(value_node, yaml.ScalarNode) or value_node.tag == _NULL:
                self.fail(value_node, f"{path}.{key}: expected a single value, found {_found(value_node)}")
            elif key == "value":
                if _NUMBER.match(value_node.value):
                    if not self._beyond_limits(value_node, f"{path}.value", value_node.value):
                        parts["value"] = Decimal(value_node.value.replace("_", ""))
                else:
                    self.fail(value_node, f"{path}.value: '{value_node.value}' is not a number such as 18_000 or 5.07")
            else:
                parts[key] = self.scalar(kinds[key], value_node, f"{path}.{key}")
        if "value" not in parts and self.count == before:
            self.fail(node, f"{path}: 'value' is missing")
        if self.count > before:
            return _BAD
        return m.Quantity(value=parts["value"], unit=parts.get("unit"), assumption=parts.get("assumption"),
                          span=self._span(node))

    # -- DSL fragments inside YAML strings
    def _locator(self, node):
        mark = node.start_mark
        if node.style in ("|", ">"):
            lines = self.text.splitlines()
            first = lines[mark.line + 1] if mark.line + 1 < len(lines) else ""
            indent = len(first) - len(first.lstrip(" "))
            return lambda line, col: (mark.line + 1 + line, indent + col)
        shift = 1 if node.style in ('"', "'") else 0
        return lambda line, col: (mark.line + line, (mark.column + shift + col) if line == 1 else col)

    def fragment(self, node, path: str, start: str):
        text, where = node.value, self._locator(node)
        what = "expression" if start == "expr" else "quantity"
        prescan = _prescan(text, self.path)
        for d in prescan:
            self.fail(where(d.span.line, d.span.column), f"{path}: {d.message}", d.hint)
        if prescan:
            return _BAD
        try:
            tree = _fragment_parser().parse(text, start=start)
            result = _Builder(self.path).transform(tree)
        except UnexpectedInput as exc:
            if start == "quantity":
                return self.fail(node, f"{path}: '{text.strip()}' is not a quantity such as 1_400_000 DKK, 5.07 % "
                                 "or 12 months", hint="units: a currency (DKK, GBP, EUR …), " + ", ".join(m.UNITS))
            if isinstance(exc, UnexpectedEOF) or (isinstance(exc, UnexpectedToken) and exc.token.type == "$END"):
                return self.fail(where(*_end(text)), f"{path}: the expression '{text.strip()}' ends too early")
            d = _syntax_diagnostic(self.path, exc)
            return self.fail(where(d.span.line, d.span.column), f"{path}: in the expression: {d.message}", d.hint)
        except VisitError as exc:
            if isinstance(exc.orig_exc, RecursionError):
                return self.fail(node, f"{path}: the {what} is nested too deeply")
            if not isinstance(exc.orig_exc, ParseError):
                raise exc.orig_exc from None
            for d in exc.orig_exc.diagnostics:
                self.fail(where(d.span.line, d.span.column) if d.span else node, f"{path}: {d.message}", d.hint)
            return _BAD
        except RecursionError:
            return self.fail(node, f"{path}: the {what} is nested too deeply")
        return _relocate(result, where)


def _end(text: str) -> tuple[int, int]:
    lines = text.rstrip().split("\n")
    return len(lines), len(lines[-1]) + 1


def _relocate(obj, where):
    """Move the spans of a parsed fragment from string positions to YAML file positions."""
    if isinstance(obj, tuple):
        return tuple(_relocate(x, where) for x in obj)
    if not attrs.has(type(obj)):
        return obj
    changes = {}
    for a in attrs.fields(type(obj)):
        v = getattr(obj, a.name)
        if a.name == "span" and v is not None:
            line, col = where(v.line, v.column)
            end = where(v.end_line, v.end_column) if v.end_line is not None else (None, None)
            changes["span"] = m.SourceSpan(v.file, line, col, end[0], end[1])
        elif isinstance(v, tuple) or attrs.has(type(v)):
            changes[a.name] = _relocate(v, where)
    return attrs.evolve(obj, **changes)


def _consistency(obj) -> list[str]:
    """Combinations the model allows but the contract language cannot state."""
    out = []
    if isinstance(obj, (m.Measure, m.Attribute)):
        noun = "measure" if isinstance(obj, m.Measure) else "attribute"
        if (obj.kind == "enum") != bool(obj.values):
            out.append(f"'values' are given for, and only for, {'a' if noun == 'measure' else 'an'} {noun} of kind enum")
        if (obj.low is None) != (obj.high is None):
            out.append("a range needs both 'low' and 'high'")
        if obj.low is not None and obj.kind not in ("integer", "decimal"):
            out.append(f"only an integer or decimal {noun} has a range")
    elif isinstance(obj, m.Row) and obj.kind == "row" and (obj.of is not None or obj.weighted_by is not None):
        out.append("'of' and 'weighted_by' belong to a row of kind sum")
    elif isinstance(obj, m.Goal) and obj.from_cohort and not obj.points:
        out.append("'from_cohort' needs 'points'")
    elif isinstance(obj, m.Goal) and obj.shares and obj.payer != obj.shares[0].party:
        out.append("with 'shares', 'payer' is the first share's party")
    elif isinstance(obj, m.Programme):
        for item, parts in (("data_collection_end", ("data_collection_assumption", "data_collection_clause")),
                            ("minimum_stay", ("minimum_stay_clause",)),
                            ("replacement_within", ("replacement_unless", "replacement_clause"))):
            if getattr(obj, item) is None and any(getattr(obj, p) for p in parts):
                out.append(f"{', '.join(parts)} need '{item}'")
    return out


def load_yaml(text: str, path: str = "<yaml>") -> m.Contract:
    """Build a `Contract` from its YAML form; raise `ParseError` (CL030) with every problem found."""
    size = len(text.encode("utf-8"))
    if size > MAX_BYTES:
        raise ParseError([error(CODE, f"$: the file is {size:,} bytes; a contract file may be at most {MAX_BYTES:,}",
                                m.SourceSpan(path, 1, 1))])
    loader = _Loader(text.removeprefix("\ufeff"), path)
    contract = loader.load()
    if contract is None or loader.count:
        diags = sorted(loader.diags, key=lambda d: (d.span.line, d.span.column) if d.span else (0, 0))
        if loader.count > len(diags):
            diags.append(error(CODE, f"$: {loader.count - len(diags)} more problems not shown", m.SourceSpan(path, 1, 1)))
        raise ParseError(diags)
    return contract


if __name__ == "__main__":  # python -m contractlang.yamlform FILE.contract > FILE.yaml
    import sys

    sys.stdout.write(dump_yaml(parse_file(sys.argv[1])))
