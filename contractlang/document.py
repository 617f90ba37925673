"""The settlement document as JSON: the one module that writes it (docs/settlement-json.md).

Layout: one object, keys sorted, two-space indent, non-ASCII as is, decimals as strings,
no floats. The records of the three long lists — `lines`, `exclusions` and
`row_exclusions` — are written one record per line, compact (sorted keys, no spaces),
so that a settlement of a million lines stays small and two settlements diff and grep
line by line. Parsed, the document is the same whichever engine wrote it.
"""

from __future__ import annotations

import queue
import threading
from typing import Iterable

import orjson

#: The lists written one compact record per line.
RECORD_LISTS = ("lines", "exclusions", "row_exclusions")

_INDENTED = orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS
_COMPACT = orjson.OPT_SORT_KEYS


def record_json(record: dict) -> bytes:
    """One record as its compact line (sorted keys, no spaces)."""
    return orjson.dumps(record, default=str, option=_COMPACT)


def _json(value, indent: bytes) -> bytes:
    """One value as indented JSON, its inner lines shifted right by `indent`."""
    return orjson.dumps(value, default=str, option=_INDENTED).replace(b"\n", b"\n" + indent)


def _chunks(doc: dict, records: dict[str, Iterable[bytes]]):
    """The document's JSON in pieces; `records` may give the compact lines of a record list instead of dicts."""
    if not doc and not records:
        yield b"{}\n"
        return
    for i, key in enumerate(sorted({*doc, *records})):
        yield (b",\n  " if i else b"{\n  ") + orjson.dumps(key) + b": "
        if key in records or (key in RECORD_LISTS and isinstance(doc[key], list)):
            items = records[key] if key in records else (record_json(x) for x in doc[key])
            first = True
            for item in items:
                yield b"[\n    " if first else b",\n    "
                yield item  # apart: a block of records is not copied to put a separator before it
                first = False
            yield b"[]" if first else b"\n  ]"
        else:
            value = doc[key]
            if isinstance(value, list) and value:
                for j, item in enumerate(value):
                    yield (b",\n    " if j else b"[\n    ") + _json(item, b"    ")
                yield b"\n  ]"
            else:
                yield _json(value, b"  ")
    yield b"\n}\n"


def document_json(doc: dict, records: dict[str, Iterable[bytes]] | None = None) -> bytes:
    """The settlement document as UTF-8 JSON in the documented layout (byte-stable)."""
    return b"".join(_chunks(doc, records or {}))


def write_document_json(doc: dict, fh, records: dict[str, Iterable[bytes]] | None = None) -> None:
    """Write `document_json(doc)` to the binary file `fh` in batches, so a large settlement is never held whole.

    The batches are written by a thread of their own while the next ones are made (making a block of
    records and writing it both run outside Python's lock), at most two waiting at a time."""
    pending: queue.Queue = queue.Queue(maxsize=2)
    failed: list[BaseException] = []

    def writer():
        while (data := pending.get()) is not None:
            if not failed:
                try:
                    fh.write(data)
                except BaseException as exc:  # noqa: BLE001  (raised again in the caller's thread)
                    failed.append(exc)

    thread = threading.Thread(target=writer, name="contractlang-writer", daemon=True)
    thread.start()
    try:
        batch: list[bytes] = []
        size = 0
        for chunk in _chunks(doc, records or {}):
            if failed:
                break
            if len(chunk) >= 1 << 20:  # a block of records: written as it is, not copied into a batch
                if batch:
                    pending.put(b"".join(batch))
                    batch, size = [], 0
                pending.put(chunk)
                continue
            batch.append(chunk)
            size += len(chunk)
            if size >= 1 << 20:
                pending.put(b"".join(batch))
                batch, size = [], 0
        pending.put(b"".join(batch))
    finally:
        pending.put(None)
        thread.join()
    if failed:
        raise failed[0]


def first_difference(recorded, now, path: str = "") -> tuple[str, object, object] | None:
    """Where two parsed settlement documents first differ, in the document's order (keys sorted, list items in
    order): (the path, as `lines[17].amount`; the recorded value; the value now), or None when they are equal.
    A value missing on one side is `MISSING`."""
    if isinstance(recorded, dict) and isinstance(now, dict):
        for key in sorted(set(recorded) | set(now)):
            found = first_difference(recorded.get(key, MISSING), now.get(key, MISSING), f"{path}.{key}" if path else key)
            if found:
                return found
        return None
    if isinstance(recorded, list) and isinstance(now, list):
        for k in range(max(len(recorded), len(now))):
            found = first_difference(recorded[k] if k < len(recorded) else MISSING,
                                     now[k] if k < len(now) else MISSING, f"{path}[{k}]")
            if found:
                return found
        return None
    return None if recorded == now and type(recorded) is type(now) else (path, recorded, now)


class _Missing:
    def __repr__(self) -> str:
        return "(nothing)"


#: What `first_difference` gives for a key or an item that one document has and the other has not.
MISSING = _Missing()
