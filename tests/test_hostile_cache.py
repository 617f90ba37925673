"""The parser cache, class 6 of issue 12: a cache file others could have written is never unpickled.

Lark keeps the parser tables as a pickle in `$XDG_CACHE_HOME/contractlang/`. Under umask 000 the file
used to be written world-writable and loaded whatever its mode, so another local user could make the
next run of contractlang execute code. Now the file is the user's, mode 0600, and a file that is not
(group- or world-writable, a link) is removed and built again without being loaded.
"""

from __future__ import annotations

import os
import pickle
import stat
from pathlib import Path

import pytest

import importlib

parse = importlib.import_module("contractlang.parse")  # the module (the package exports a function of that name)


class _Evil:
    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (os.mkdir, (str(self.marker),))


@pytest.fixture
def fresh_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    old = os.umask(0)
    parse.parser.cache_clear()
    try:
        yield tmp_path / "cache" / "contractlang"
    finally:
        os.umask(old)
        parse.parser.cache_clear()


def _cache_file(directory: Path) -> Path:
    (found,) = directory.glob("parser-*.lark-cache")
    return found


def test_the_cache_is_private_even_under_umask_000(fresh_cache):
    parse.parser()
    assert stat.S_IMODE(fresh_cache.stat().st_mode) == 0o700
    assert stat.S_IMODE(_cache_file(fresh_cache).stat().st_mode) == 0o600
    parse.parser.cache_clear()
    assert parse.parse_text('contract x "X"\n', "x.contract").id == "x"  # loads from the cache


@pytest.mark.parametrize("mode", [0o666, 0o664, 0o646])
def test_a_cache_file_others_could_write_is_never_loaded(fresh_cache, tmp_path, mode):
    parse.parser()
    cache = _cache_file(fresh_cache)
    header = cache.read_bytes().split(b"\n", 1)[0]
    marker = tmp_path / "pwned"
    cache.write_bytes(header + b"\n" + pickle.dumps(_Evil(marker)))
    cache.chmod(mode)
    parse.parser.cache_clear()
    assert parse.parse_text('contract x "X"\n', "x.contract").id == "x"
    assert not marker.exists()
    assert stat.S_IMODE(cache.stat().st_mode) == 0o600 and pickle.dumps(_Evil(marker)) not in cache.read_bytes()


def test_a_linked_cache_file_is_never_loaded(fresh_cache, tmp_path):
    parse.parser()
    cache = _cache_file(fresh_cache)
    elsewhere = tmp_path / "elsewhere.pickle"
    marker = tmp_path / "pwned"
    elsewhere.write_bytes(cache.read_bytes().split(b"\n", 1)[0] + b"\n" + pickle.dumps(_Evil(marker)))
    elsewhere.chmod(0o600)
    cache.unlink()
    cache.symlink_to(elsewhere)
    parse.parser.cache_clear()
    assert parse.parse_text('contract x "X"\n', "x.contract").id == "x"
    assert not marker.exists() and not cache.is_symlink()
