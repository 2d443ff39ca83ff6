"""Shared fixtures: seeded randomness, edge-case audio, and an isolated index folder."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from tests.support.audio_fixtures import edge_cases_write


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20261121)


@pytest.fixture(scope="session")
def edge_audio(tmp_path_factory) -> dict[str, Path]:
    return edge_cases_write(tmp_path_factory.mktemp("edge-audio"))


@pytest.fixture(scope="session")
def demo_library(tmp_path_factory) -> Path:
    """The demo music library (seed 7), synthesised once per test run; tests only read it."""
    from playlists.demo.music import demo_library_write

    root = tmp_path_factory.mktemp("demo-library") / "music"
    demo_library_write(root, seed=7)
    return root


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Accounts made by tests are hashed with a fast hasher: the slow real one (PBKDF2) would cost
    a third of a second per user and protects nothing here; no test is about the password store."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _caches_empty():
    """Each test starts with empty caches (page fragments, kept API answers): every test builds a fresh index whose
    first version has the same name as another test's, and a kept answer must not cross from one test to the next."""
    from django.core.cache import caches

    for cache in caches.all():
        cache.clear()


@pytest.fixture(autouse=True)
def _tasks_run_immediately(settings):
    """Queued tasks run at once in tests; tests of the worker path switch to the database backend."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend", "QUEUES": ["default", "reindex"]}}


@pytest.fixture
def index_dir(settings, tmp_path) -> Path:
    """Points the engine at a fresh index folder for this test."""
    folder = tmp_path / "index"
    settings.CROSSFADE = dataclasses.replace(settings.CROSSFADE, index_dir=folder)
    return folder


@pytest.fixture(autouse=True)
def _pictures_in_tmp(settings, tmp_path_factory):
    """Cached pictures, covers and the map go to a temporary folder, never the checkout's data/."""
    settings.CROSSFADE_PICTURES_DIR = tmp_path_factory.mktemp("pictures")
    settings.CROSSFADE_COVERS_DIR = tmp_path_factory.mktemp("covers")


@pytest.fixture(scope="session", autouse=True)
def _library_roots_in_tmp(tmp_path_factory):
    """Tests' music libraries live under pytest's temporary folder: that is the library root they may read
    (for module-scoped fixtures too). Tests of the roots themselves narrow it with the ``settings`` fixture."""
    from django.conf import settings

    previous = settings.CROSSFADE_LIBRARY_ROOTS
    settings.CROSSFADE_LIBRARY_ROOTS = [tmp_path_factory.getbasetemp()]
    yield
    settings.CROSSFADE_LIBRARY_ROOTS = previous
