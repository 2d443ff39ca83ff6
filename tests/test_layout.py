"""The design's promises about the code itself: ml/ is a plain library."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ML_FILES = sorted((ROOT / "ml").rglob("*.py"))


def test_ml_has_modules_for_each_part():
    names = {path.relative_to(ROOT).as_posix() for path in ML_FILES}
    assert {"ml/audio/__init__.py", "ml/text/__init__.py", "ml/fusion/__init__.py"} <= names


def test_ml_never_imports_django_or_the_app():
    offenders = []
    for path in ML_FILES:
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            modules = []
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                modules = [node.module]
            offenders += [f"{path.name}: {m}" for m in modules if m.split(".")[0] in {"django", "playlists", "config"}]
    assert offenders == []


def test_ml_never_reads_the_environment():
    offenders = []
    for path in ML_FILES:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and node.attr in {"environ", "getenv", "putenv"}:
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []


def test_importing_all_of_ml_loads_no_django():
    modules = [".".join(path.relative_to(ROOT).with_suffix("").parts) for path in ML_FILES if path.name != "__init__.py"]
    code = "import sys\n" + "".join(f"import {m}\n" for m in modules) + "print(sorted(m for m in sys.modules if m.split('.')[0] in {'django', 'playlists', 'config'}))"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
