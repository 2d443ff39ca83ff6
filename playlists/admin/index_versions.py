"""Admin pages that are not one model's list: the index versions on disk and the models they hold."""
from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from ml.errors import MLError
from playlists import engine


def index_serving_state() -> dict[str, str]:
    """What serves and why: ``current`` (the version CURRENT names), ``serving`` (the one this process
    serves), and ``warning`` when they differ or nothing can serve (a damaged index)."""
    store = engine.index_store()
    current = store.current_version() or ""
    snapshot = engine.serving()
    serving = snapshot.version if snapshot is not None else ""
    problems = engine.engine().problems
    warning = ""
    if current and serving != current:
        reason = problems.get(current, "it cannot be opened")
        fallback = f"serving {serving}, the newest intact version, instead" if serving else "no earlier version is intact, so similar tracks and playlists are off"
        warning = f"Index version {current} is damaged ({reason}); {fallback}. Run a full reindex to build a new version."
    return {"current": current, "serving": serving, "warning": warning}


def index_versions_read() -> list[dict[str, Any]]:
    """Every complete index version, newest first: name, serving, intact or what is wrong, built, counts per modality and model versions."""
    store = engine.index_store()
    serving = index_serving_state()["serving"]
    rows = []
    for name in reversed(store.versions()):
        try:
            meta = store.check(name)
        except MLError as error:
            rows.append({"version": name, "serving": name == serving, "error": str(error)})
            continue
        modalities = meta.get("modalities", {})
        rows.append(
            {
                "version": name,
                "serving": name == serving,
                "built_at": meta.get("built_at", ""),
                "build_seconds": meta.get("build_seconds"),
                "tracks": meta.get("tracks"),
                "backend": meta.get("backend", ""),
                "modalities": [
                    {"name": m, "count": info.get("count"), "dim": info.get("dim"), "model_version": info.get("model_version", ""), "whitening": info.get("whitening", "")}
                    for m, info in modalities.items()
                ],
                "update_note": meta.get("update", {}).get("note", "") if isinstance(meta.get("update"), dict) else "",
                "error": "",
            }
        )
    return rows


def index_versions(request: HttpRequest) -> HttpResponse:
    context = {
        **admin.site.each_context(request),
        "title": "Index versions",
        "state": index_serving_state(),
        "versions": index_versions_read(),
        "root": engine.index_store().root,
    }
    return TemplateResponse(request, "admin/playlists/index_versions.html", context)
