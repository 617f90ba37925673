"""The language server (`contractlang lsp`), tested through its protocol: JSON-RPC over standard input and
output, as an editor speaks it. It publishes the checker's diagnostics of an open file (and again when it
changes), completes keywords and declared names, and hovers a name with what it is and its clause."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

RATE_CARD = Path(__file__).resolve().parents[1] / "contracts" / "examples" / "rate-card" / "rate-card.contract"
URI = "file:///tmp/rate-card.contract"


class Client:
    def __init__(self):
        self.proc = subprocess.Popen([sys.executable, "-m", "contractlang.cli", "lsp"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.next_id = 0

    def send(self, method: str, params: dict, request: bool = False) -> int | None:
        message = {"jsonrpc": "2.0", "method": method, "params": params}
        if request:
            self.next_id += 1
            message["id"] = self.next_id
        body = json.dumps(message).encode()
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.proc.stdin.flush()
        return message.get("id")

    def receive(self) -> dict:
        length = None
        while True:
            line = self.proc.stdout.readline()
            assert line, self.proc.stderr.read().decode()
            if line in (b"\r\n", b"\n"):
                break
            name, _, value = line.decode().partition(":")
            if name.lower() == "content-length":
                length = int(value)
        return json.loads(self.proc.stdout.read(length))

    def wait(self, *, method: str | None = None, answer: int | None = None) -> dict:
        for _ in range(200):
            message = self.receive()
            if method is not None and message.get("method") == method:
                return message
            if answer is not None and message.get("id") == answer and "method" not in message:
                return message
        raise AssertionError(f"no {method or answer}")

    def close(self):
        self.wait(answer=self.send("shutdown", None, request=True))
        self.send("exit", None)
        self.proc.wait(timeout=10)


@pytest.fixture
def client():
    c = Client()
    answer = c.wait(answer=c.send("initialize", {"processId": None, "rootUri": None, "capabilities": {}},
                                  request=True))
    assert answer["result"]["serverInfo"]["name"] == "contractlang"
    caps = answer["result"]["capabilities"]
    assert caps["hoverProvider"] and "completionProvider" in caps
    c.send("initialized", {})
    yield c
    c.close()


def _open(client: Client, text: str) -> list[dict]:
    client.send("textDocument/didOpen", {"textDocument": {"uri": URI, "languageId": "contractlang", "version": 1,
                                                          "text": text}})
    return client.wait(method="textDocument/publishDiagnostics")["params"]["diagnostics"]


def test_diagnostics_are_published_on_open_and_on_change(client):
    text = RATE_CARD.read_text(encoding="utf-8")
    found = _open(client, text)
    assert found and all(d["source"] == "contractlang" for d in found)
    assert {d["code"] for d in found} == {"CL024"} and all(d["severity"] == 3 for d in found)  # notes only
    broken = text.replace("pay 4_000 DKK per participant", "pay 4_000 XYZ per participant")
    client.send("textDocument/didChange", {"textDocument": {"uri": URI, "version": 2},
                                           "contentChanges": [{"text": broken}]})
    found = client.wait(method="textDocument/publishDiagnostics")["params"]["diagnostics"]
    errors = [d for d in found if d["severity"] == 1]
    line = next(i for i, x in enumerate(broken.split("\n")) if "XYZ" in x)
    assert errors and errors[0]["range"]["start"]["line"] == line, errors


def test_completion_offers_keywords_and_declared_names(client):
    _open(client, RATE_CARD.read_text(encoding="utf-8"))
    answer = client.wait(answer=client.send("textDocument/completion", {
        "textDocument": {"uri": URI}, "position": {"line": 0, "character": 0}}, request=True))
    items = {i["label"]: i for i in answer["result"]["items"]}
    assert {"goal", "cap", "acknowledge", "missing"} <= set(items)
    assert items["qualification"]["detail"].startswith("goal") or items["qualification"]["detail"].startswith("measure")
    assert items["prices"]["detail"] == "table — The rate card" and "Kommunen" in items


def test_hover_says_what_a_name_is_and_its_clause(client):
    text = RATE_CARD.read_text(encoding="utf-8")
    _open(client, text)
    lines = text.split("\n")
    line = next(i for i, x in enumerate(lines) if x.startswith("goal attendance"))
    answer = client.wait(answer=client.send("textDocument/hover", {
        "textDocument": {"uri": URI}, "position": {"line": line, "character": lines[line].index("attendance") + 2}},
        request=True))
    value = answer["result"]["contents"]["value"]
    assert value.startswith("**goal** `attendance` — Improved school attendance") and "§ Example 4.1" in value


def test_a_danish_document_completes_danish_keywords_and_hover_gives_the_english_one(client):
    from contractlang.parse import parse_file
    from contractlang.printer import format_contract

    text = format_contract(parse_file(RATE_CARD), "da")
    assert [d for d in _open(client, text) if d["severity"] == 1] == []
    answer = client.wait(answer=client.send("textDocument/completion", {
        "textDocument": {"uri": URI}, "position": {"line": 0, "character": 0}}, request=True))
    labels = {i["label"] for i in answer["result"]["items"]}
    assert {"mål", "loft", "accepter", "manglende", "attendance"} <= labels and "goal" not in labels
    lines = text.split("\n")
    line = next(i for i, x in enumerate(lines) if x.startswith("mål attendance"))
    answer = client.wait(answer=client.send("textDocument/hover", {
        "textDocument": {"uri": URI}, "position": {"line": line, "character": 1}}, request=True))
    assert answer["result"]["contents"]["value"].startswith("keyword `mål` (`goal` or `goals` in English)")
