"""The catalogue map: the serving index's tracks laid out in 2-D by their hybrid similarity, once per index version.

Computing the layout (t-SNE over 1 - the hybrid score, at the perplexity
that keeps genres together best, :func:`ml.fusion.projection.layout_choose`)
takes seconds to minutes, so it runs as a background job
(:func:`playlists.jobs.tasks.catalogue_map_task`) and is cached as
``<pictures>/map/<index version>.json`` with the scores it was chosen by;
colouring and playlist paths are cheap and done per request from the database.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings

from ml.fusion.projection import SCORE_K, layout_choose, similarity_score
from ml.playlist.vectors import scores_matrix, vectors_of
from ml.progress import Progress, progress_silent
from ml.scoring import balance_weights
from ml.text.language import language_label
from playlists import engine
from playlists.models import Track
from playlists.pictures.files import OTHER_COLOUR, PALETTE, pictures_dir, write_atomically

logger = logging.getLogger(__name__)

MAP_FORMAT = 2  # 2: laid out on hybrid distances at a measured perplexity, with its scores
COLOUR_BY = {"genre": "genre", "language": "language", "tag": "audio tag", "artist": "artist"}
SIZE = 1000  # the SVG's coordinate box; points keep a margin inside it
MARGIN = 30


def map_path(version: str) -> Path:
    return pictures_dir() / "map" / f"{version}.json"


def map_load(version: str) -> dict[str, Any] | None:
    path = map_path(version)
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if data.get("format") == MAP_FORMAT else None


def map_compute(report: Progress = progress_silent) -> dict[str, Any]:
    """Lay out the serving index and cache it; returns ``{"version", "points", "perplexity", "score"}``.

    Catalogues larger than ``settings.CROSSFADE_MAP_MAX_POINTS`` are sampled
    (seeded), since t-SNE grows quadratically. The layout is t-SNE over the
    hybrid distance (1 - the score at the default balance) at whichever of
    :data:`ml.fusion.projection.PERPLEXITIES` best keeps a track's map
    neighbours in its genre; the scores, and the same score in the full
    space, are saved with it and shown on the page.
    """
    serving = engine.serving_or_raise()
    index, version = serving.index, serving.version
    report(0, 3, "reading vectors")
    ids = index.track_ids()
    limit = int(settings.CROSSFADE_MAP_MAX_POINTS)
    if ids.size > limit:
        ids = np.sort(np.random.default_rng(0).choice(ids, size=limit, replace=False))
    vector_set = vectors_of(index, ids)
    similarity = np.nan_to_num(scores_matrix(vector_set, vector_set, balance_weights(settings.CROSSFADE.default_balance)).astype(np.float32), nan=0.0)
    distances = np.clip(1.0 - similarity, 0.0, 2.0)
    tracks = Track.objects.select_related("artist").in_bulk([int(i) for i in ids])
    labels = [tracks[int(i)].genres[0] if int(i) in tracks and tracks[int(i)].genres else "" for i in ids]
    groups = [str(tracks[int(i)].artist_id or f"track-{i}") if int(i) in tracks else f"track-{i}" for i in ids]
    report(1, 3, f"laying out {ids.size} tracks (t-SNE)")
    layout, perplexity, scores = layout_choose(distances, labels, groups, seed=0)  # (n, 2) in [0, 1]
    full = similarity_score(similarity, labels, groups)
    report(2, 3, "saving")
    data: dict[str, Any] = {
        "format": MAP_FORMAT,
        "version": version,
        "ids": [int(i) for i in ids],
        "xy": [[round(float(x), 5), round(float(y), 5)] for x, y in layout],
        "layout": {"method": "t-SNE on hybrid distances", "perplexity": perplexity, "k": SCORE_K, "scores": scores, "full_space": None if full is None else round(full, 4)},
    }
    write_atomically(map_path(version), json.dumps(data).encode())
    report(3, 3, "done")
    return {"version": version, "points": len(data["ids"]), "perplexity": perplexity, "score": scores.get(f"{perplexity:g}")}


@dataclass
class MapPoint:
    track: Track
    x: float
    y: float
    colour: str
    group: str
    on_path: bool = False


def _group_of(track: Track, colour_by: str) -> str:
    if colour_by == "language":
        # Detection stores "zxx" (instrumental) and "und" (unsure): show them as words.
        return language_label(track.language) if track.language else "unknown"
    if colour_by == "artist":
        return track.artist.name if track.artist else "unknown"
    if colour_by == "tag":
        tags = getattr(track, "audio_tags", None)  # added by the audio-tagging work; absent before it
        tag: str
        if isinstance(tags, dict) and tags:
            tag = max(tags.items(), key=lambda kv: kv[1])[0]
            return tag
        if isinstance(tags, (list, tuple)) and tags:
            first = tags[0]
            if isinstance(first, (list, tuple)):
                tag = first[0]
                return tag
            return str(first)
        return "no tags"
    genres = track.genres
    return genres[0] if genres else "no genre"


def map_layout_summary(data: dict[str, Any]) -> dict[str, Any] | None:
    """How well the saved layout keeps genres together, for the page: ``{"k", "percent", "full_percent", "perplexity", "tried"}``.

    None when the layout was not scored (too few tracks with a genre).
    """
    layout = data.get("layout") or {}
    scores = layout.get("scores") or {}
    chosen = scores.get(f"{layout.get('perplexity', 0):g}")
    if chosen is None:
        return None
    full = layout.get("full_space")
    return {"k": layout.get("k"), "percent": 100 * chosen, "full_percent": None if full is None else 100 * full, "perplexity": layout["perplexity"], "tried": len(scores)}


@dataclass
class PathEnd:
    """Where a drawn playlist starts or ends on the map, for its marker."""

    track: Track
    x: float
    y: float


def map_points(data: dict[str, Any], *, colour_by: str = "genre", path_ids: list[int] | None = None) -> tuple[list[MapPoint], list[tuple[str, str]], str]:
    """Points in SVG coordinates, the legend ``[(group, colour)]`` and the playlist path (``"x,y x,y"``)."""
    colour_by = colour_by if colour_by in COLOUR_BY else "genre"
    tracks = Track.objects.select_related("artist").in_bulk(data["ids"])
    span = SIZE - 2 * MARGIN
    placed: dict[int, tuple[float, float]] = {}
    raw = []
    for track_id, (x, y) in zip(data["ids"], data["xy"]):
        track = tracks.get(track_id)
        if track is None:  # deleted since the layout was made
            continue
        px, py = MARGIN + span * x, MARGIN + span * (1 - y)
        placed[track_id] = (px, py)
        raw.append((track, px, py, _group_of(track, colour_by)))
    counts: dict[str, int] = {}
    for _, _, _, group in raw:
        counts[group] = counts.get(group, 0) + 1
    ranked = sorted(counts, key=lambda g: (-counts[g], g))
    colours = {group: PALETTE[i] for i, group in enumerate(ranked[: len(PALETTE)])}
    on_path = set(path_ids or [])
    points = [MapPoint(t, round(x, 1), round(y, 1), colours.get(g, OTHER_COLOUR), g, t.id in on_path) for t, x, y, g in raw]
    legend = [(g, colours[g]) for g in ranked[: len(PALETTE)]]
    if len(ranked) > len(PALETTE):
        legend.append((f"{len(ranked) - len(PALETTE)} more", OTHER_COLOUR))
    path = " ".join(f"{placed[i][0]:.1f},{placed[i][1]:.1f}" for i in (path_ids or []) if i in placed)
    return points, legend, path


def map_path_ends(points: list[MapPoint], path_ids: list[int] | None) -> tuple[PathEnd | None, PathEnd | None]:
    """The first and the last track of a drawn playlist that are on the map (None without a path)."""
    on_map = {p.track.id: p for p in points}
    placed = [on_map[i] for i in (path_ids or []) if i in on_map]
    if not placed:
        return None, None
    first, last = placed[0], placed[-1]
    return PathEnd(first.track, first.x, first.y), (PathEnd(last.track, last.x, last.y) if len(placed) > 1 else None)
