"""The OpenSubsonic spec's own response schemas (``schemas.json``, made by ``bundle.py``), to check every JSON answer against."""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from jsonschema.exceptions import best_match
from openapi_schema_validator import OAS30Validator

SCHEMAS = Path(__file__).with_name("schemas.json")


@lru_cache(maxsize=None)
def _document() -> dict[str, Any]:
    return json.loads(SCHEMAS.read_text())


@lru_cache(maxsize=None)
def _validator(method: str) -> OAS30Validator:
    document = _document()
    return OAS30Validator({**document["methods"][method], "definitions": document["definitions"]})


def answer_check(method: str, body: dict[str, Any]) -> dict[str, Any]:
    """Raises ``jsonschema.ValidationError`` unless ``body`` (a whole JSON answer) is what the spec says ``method`` answers."""
    best = best_match(_validator(method).iter_errors(body))
    if best is not None:
        raise AssertionError(f"{method}: {best.message} at {'/'.join(map(str, best.absolute_path))}")
    return body["subsonic-response"]


def methods() -> list[str]:
    return sorted(_document()["methods"])
