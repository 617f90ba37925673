"""The JSON Schema of the YAML form of a contract, made from the model and the YAML form's own scheme
(`yamlform._spec`: each field's kind), so that it cannot drift from what `load_yaml` reads.

Editors with a YAML language server (VS Code's YAML extension and others) validate and complete a
contract's YAML against it as it is typed: docs/editors.md says how to point them at it. It is
shipped in the package (`contractlang/contract.schema.json`), published with the docs
(`docs/contract.schema.json`) and given to VS Code's YAML language server by the extension in
`editors/vscode/`; `tests/test_schema.py` holds the three to `contract_schema()`, validates
every YAML contract of the repository against it, and checks that it rejects what the loader rejects
for its structure. What the schema cannot say (a name that must be declared, a unit that must fit) is
the checker's, as for the DSL.
"""

from __future__ import annotations

import json

from . import model as m
from .yamlform import _MONTH_DAY, _spec, _want

_NAME = {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$"}
_NUMBER_TEXT = r"^-?\d+(_\d\d\d)*(\.\d+)?$"
_UNSIGNED_TEXT = r"^\d+(_\d\d\d)*(\.\d+)?$"
_QUANTITY_TEXT = r"^-?\d+(_\d\d\d)*(\.\d+)?( +\S+)?$"


#: A unit: one of the language's, or a currency (three capital letters; `check` holds it to ISO 4217).
_UNIT = {"anyOf": [{"enum": list(m.UNITS)}, {"type": "string", "pattern": "^[A-Z]{3}$"}]}


def _quantity() -> dict:
    return {"description": _want(("quantity",)) + ", or {value, unit, assumption}", "anyOf": [
        {"type": "number"},
        {"type": "string", "pattern": _QUANTITY_TEXT},
        {"type": "object", "additionalProperties": False, "required": ["value"], "properties": {
            "value": {"anyOf": [{"type": "number", "minimum": 0}, {"type": "string", "pattern": _UNSIGNED_TEXT}]},
            "unit": _UNIT,
            "assumption": {"type": "string", "minLength": 1, "pattern": "^[^\\n]*$"}}}]}


def _kind(kind: tuple, defs: dict) -> dict:
    k = kind[0]
    if k == "node":
        _define(kind[1], defs)
        return {"$ref": f"#/$defs/{kind[1].__name__}"}
    if k == "list":
        out = {"type": "array", "items": _kind(kind[1], defs)}
        return {**out, "minItems": 1} if kind[2] else out
    if k == "quantity":
        return {"$ref": "#/$defs/Quantity"}
    if k == "cell":
        return {"description": _want(kind), "anyOf": [{"$ref": "#/$defs/Quantity"}, _NAME, {"const": "-"}]}
    simple = {
        "text": {"type": "string", "pattern": "^[^\\n]*$"},
        "name": _NAME,
        "month_day": {"type": "string", "pattern": _MONTH_DAY.pattern.removesuffix("\\Z").join("^$")},
        "int": {"anyOf": [{"type": "integer", "minimum": 0}, {"type": "string", "pattern": "^\\d+$"}]},
        "bool": {"type": "boolean"},
        "decimal": {"anyOf": [{"type": "number"}, {"type": "string", "pattern": _NUMBER_TEXT}]},
        "date": {"type": "string", "pattern": "^\\d\\d\\d\\d-\\d\\d-\\d\\d$"},
        "expr": {"type": "string", "minLength": 1},
    }
    if k == "choice":
        return _UNIT if kind[1] is m.UNITS else {"enum": list(kind[1])}
    return {"description": _want(kind), **simple[k]}


def _define(cls, defs: dict) -> None:
    name = cls.__name__
    if name in defs:
        return
    defs[name] = {}  # taken before its fields, so a node that holds its own kind refers to itself
    properties, required = {}, []
    for field in _spec(cls).values():
        schema = _kind(field.kind, defs)
        if field.required:
            required.append(field.name)
        else:  # an optional field may be left out or written as null
            schema = {"anyOf": [schema, {"type": "null"}]}
        properties[field.name] = schema
    doc = (cls.__doc__ or name).strip().split("\n")[0]
    defs[name] = {"type": "object", "description": doc, "additionalProperties": False,
                  "properties": properties, **({"required": required} if required else {})}


def contract_schema() -> dict:
    """The JSON Schema (draft 2020-12) of a contract's YAML form."""
    defs: dict = {"Quantity": _quantity()}
    _define(m.Contract, defs)
    return {"$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": "contract.schema.json",
            "title": "contractlang contract (YAML form)",
            "description": "An outcome contract in contractlang's YAML form: the same model as the DSL "
                           "(docs/language.md). Made by contractlang.schema.contract_schema.",
            "$ref": "#/$defs/Contract", "$defs": dict(sorted(defs.items()))}


def schema_text() -> str:
    """The schema as the committed files hold it."""
    return json.dumps(contract_schema(), ensure_ascii=False, indent=2) + "\n"


__all__ = ["contract_schema", "schema_text"]
