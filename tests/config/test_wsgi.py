"""The web process's entry point: its garbage collector tuned as settings say."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROBE = "import gc, json, config.wsgi; print(json.dumps([gc.get_threshold()[0], gc.get_freeze_count()]))"


def _probe(tmp_path: Path, **env: str) -> tuple[int, int]:
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", "CROSSFADE_DATA_DIR": str(tmp_path), **env}
    out = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120, check=True).stdout
    threshold, frozen = json.loads(out.strip().splitlines()[-1])
    return int(threshold), int(frozen)


def test_the_loaded_application_is_frozen_and_collections_are_rarer(tmp_path):
    threshold, frozen = _probe(tmp_path, CROSSFADE_WEB_GC_THRESHOLD="15000")
    assert threshold == 15000
    assert frozen > 10_000  # Django and the apps, out of every later scan


def test_zero_keeps_pythons_collector(tmp_path):
    threshold, frozen = _probe(tmp_path, CROSSFADE_WEB_GC_THRESHOLD="0")
    assert (threshold, frozen) == (700, 0)
