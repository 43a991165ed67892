"""Fixtures shared by several test files."""

from __future__ import annotations

import shutil

import pytest

from accelsim.cache_folder import cache_dir


@pytest.fixture
def digits_cache(tmp_path_factory, monkeypatch):
    """Keep the trained digits models out of the user's cache, starting from a copy of the user's cached models when
    there is one (training it again takes seconds to minutes on a busy machine)."""
    cache = tmp_path_factory.getbasetemp() / "cache"
    cache.mkdir(exist_ok=True)
    for cached in cache_dir().glob("digits_*.pt"):
        if not (cache / cached.name).exists():
            shutil.copy(cached, cache / cached.name)
    monkeypatch.setenv("ACCELSIM_CACHE", str(cache))
