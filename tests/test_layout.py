"""The design's promises about the code itself: ml/ is a plain library."""
from __future__ import annotations

import ast
import re
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


SOURCE_PACKAGES = ("ml", "playlists", "config")


def test_tests_mirror_the_package_tree():
    """tests/<package path>/test_<thing>.py: every test folder is a folder of the code it tests."""
    strays = []
    for path in sorted((ROOT / "tests").rglob("test_*.py")):
        folder = path.parent.relative_to(ROOT / "tests")
        if folder.parts and folder.parts[0] in SOURCE_PACKAGES and not (ROOT / folder).is_dir():
            strays.append(str(path.relative_to(ROOT)))
    assert strays == []


def test_no_name_says_which_work_item_added_it():
    pattern = re.compile(r"\b(issue|work item|ticket)[ _-]?#?\d+", re.IGNORECASE)
    offenders = []
    for path in sorted(ROOT.rglob("*")):
        if any(part in {".git", ".venv", "data", "node_modules", "staticfiles", "test-artifacts", "__pycache__"} for part in path.relative_to(ROOT).parts):
            continue
        if re.search(r"issue\d|_issue|views_\w", path.name, re.IGNORECASE):
            offenders.append(str(path.relative_to(ROOT)))
        if path.suffix in {".py", ".html", ".js", ".css", ".md", ".toml"} and path.is_file():
            for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), start=1):
                if pattern.search(line):
                    offenders.append(f"{path.relative_to(ROOT)}:{number}")
    assert offenders == []


def test_the_import_contracts_hold():
    """The layering contracts in pyproject.toml (ml is a library with layers; web/api -> services -> selectors/models)."""
    result = subprocess.run([str(Path(sys.executable).parent / "lint-imports"), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
