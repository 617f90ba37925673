"""The JSON Schema of the YAML form (`contractlang.schema`): committed as made, valid draft 2020-12, every
YAML contract of the repository (and the YAML form of every bundled contract) validates, and it rejects
the structural mistakes `load_yaml` rejects.

Regenerate after a change to the model: `CONTRACTLANG_REGOLD=1 .venv/bin/python -m pytest tests/test_schema.py`.
"""

from __future__ import annotations

import os
from pathlib import Path

import jsonschema
import pytest
import yaml

from contractlang import load
from contractlang.errors import ParseError
from contractlang.schema import contract_schema, schema_text
from contractlang.yamlform import dump_yaml, load_yaml

ROOT = Path(__file__).resolve().parents[1]
COPIES = (ROOT / "contractlang" / "contract.schema.json", ROOT / "docs" / "contract.schema.json",
          ROOT / "editors" / "vscode" / "contract.schema.json")
VALIDATOR = jsonschema.Draft202012Validator(contract_schema())


class _Yaml12(yaml.SafeLoader):
    """YAML as a YAML 1.2 language server reads it: a date is a string."""


_Yaml12.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:timestamp"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()}


def errors(text: str) -> list[str]:
    return [e.message for e in VALIDATOR.iter_errors(yaml.load(text, Loader=_Yaml12))]


def test_the_committed_schema_is_the_one_the_model_makes():
    text = schema_text()
    for copy in COPIES:
        if os.environ.get("CONTRACTLANG_REGOLD") == "1":
            copy.write_text(text, encoding="utf-8")
        assert copy.read_text(encoding="utf-8") == text, copy
    jsonschema.Draft202012Validator.check_schema(contract_schema())


@pytest.mark.parametrize("path", sorted((ROOT / "contracts").rglob("*.contract")), ids=lambda p: p.parent.name)
def test_every_contract_in_yaml_validates(path):
    assert errors(dump_yaml(load(path))) == []


@pytest.mark.parametrize("path", sorted((ROOT / "contracts").rglob("*.yaml")), ids=lambda p: p.name)
def test_every_committed_yaml_contract_validates(path):
    assert errors(path.read_text(encoding="utf-8")) == []


VIBORG_YAML = (ROOT / "contracts" / "viborg" / "viborg.yaml").read_text(encoding="utf-8")
BROKEN = {  # what the loader rejects for its structure, made from the valid Viborg YAML
    "unknown key": VIBORG_YAML.replace("\nparties:", "\nparty_list:", 1),
    "missing id": VIBORG_YAML.replace("id: viborg_relationel_velfaerd\n", "", 1),
    "not a name": VIBORG_YAML.replace("  - id: DSI\n", "  - id: 9DSI\n", 1),
    "not a choice": VIBORG_YAML.replace("    kind: enum\n", "    kind: colour\n", 1),
    "a list wanted": VIBORG_YAML.replace("\nparties:\n", "\nparties: DSI\nnot_parties:\n", 1),
    "a date wanted": VIBORG_YAML.replace("intervention_start: 2023-11-01", "intervention_start: soon", 1),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_the_schema_rejects_what_the_loader_rejects(case):
    text = BROKEN[case]
    assert text != VIBORG_YAML, case
    with pytest.raises(ParseError):
        load_yaml(text, "broken.yaml")
    assert errors(text), case
