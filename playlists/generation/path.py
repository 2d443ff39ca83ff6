"""The path mode: from track A to B (through waypoints) in N steps, each strictly closer to the next anchor.

Each step aims at an interpolated point of the hybrid space
(:func:`ml.playlist.path.segment_targets`); the chain of candidates whose
similarity to the next anchor rises strictly at every step and that best
fits the points is :func:`ml.playlist.path.monotone_chain`. This module
fetches the candidates, applies the filters and the artist cap, and says
why a segment came out short.
"""
from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np

from ml.fusion.hybrid import HybridIndex
from ml.playlist.path import monotone_chain, segment_targets, steps_spread
from ml.playlist.vectors import candidates_search, mean_modality_scores, scores_matrix, vectors_of
from playlists.engine import Serving
from playlists.errors import IndexNotReadyError, SeedError
from playlists.generation.explain import explanation_text
from playlists.generation.filters import CandidateFilter, attribute_notes
from playlists.generation.result import BuiltItem, BuiltPlaylist
from playlists.generation.settings import PlaylistSettings
from playlists.generation.similar import track_key
from playlists.models import Track


def path_build(serving: Serving, settings: PlaylistSettings) -> BuiltPlaylist:
    """From the first to the last track of ``settings.path`` (through waypoints) in ``settings.length`` steps."""
    index = serving.index
    messages: list[str] = []
    anchors_by_id = Track.objects.select_related("artist", "album").in_bulk(settings.path)
    unknown = [s for s in settings.path if s not in anchors_by_id]
    if unknown:
        raise SeedError(f"unknown path track ids: {', '.join(map(str, unknown))}")
    anchors = [anchors_by_id[s] for s in settings.path]
    not_indexed = [t.title for t in anchors if t.id not in index]
    if not_indexed:
        raise IndexNotReadyError(f"a path needs indexed tracks; not indexed yet: {', '.join(not_indexed)} (run reindex)")
    weights = settings.weights
    steps_between = steps_spread(settings.length - len(anchors), len(anchors) - 1)
    filt = CandidateFilter(settings)
    seen: dict[int, Track] = {}
    used_ids = set(settings.path)
    used_keys = {track_key(t) for t in anchors}
    used_artists: Counter[int | None] = Counter(t.artist_id for t in anchors)
    cap = settings.max_per_artist
    chosen: list[Track] = [anchors[0]]
    explanations: dict[int, dict[str, Any]] = {anchors[0].id: {"seed": True, "why": "start"}}
    scores: dict[int, float] = {}
    for segment, (start, end) in enumerate(zip(anchors[:-1], anchors[1:])):
        m = steps_between[segment]
        picked = _segment_walk(index, start, end, m, weights, settings, filt, used_ids, used_keys, used_artists, cap, seen)
        if len(picked) < m:
            messages.append(f"from {start.title} to {end.title}: only {len(picked)} of {m} steps move closer without repeats")
        for step, (track, toward) in enumerate(picked, start=1):
            chosen.append(track)
            scores[track.id] = toward
            info: dict[str, Any] = {"path": {"step": step, "toward": end.title, "similarity": round(toward, 4)}}
            info["why"] = explanation_text(info)
            explanations[track.id] = info
        chosen.append(end)
        explanations[end.id] = {"seed": True, "why": "waypoint" if end is not anchors[-1] else "destination"}
    if settings.attributes:
        messages.extend(attribute_notes(settings, list(seen.values())))
    vectors = vectors_of(index, [t.id for t in chosen])
    ends = vectors_of(index, [anchors[0].id, anchors[-1].id])
    for modality in ("audio", "lyrics"):
        if modality in index.indexes:
            similarity = mean_modality_scores(vectors, ends, modality)
            for row, track in enumerate(chosen):
                if not np.isnan(similarity[row]) and "path" in explanations[track.id]:
                    explanations[track.id][modality] = round(float(similarity[row]), 4)
    for info in explanations.values():
        if "path" in info:
            info["why"] = explanation_text(info)
    items = [BuiltItem(t.id, scores.get(t.id), t.id in set(settings.path), explanations[t.id]) for t in chosen]
    if len(items) < settings.length:
        messages.append(f"the path has {len(items)} of {settings.length} tracks")
    return BuiltPlaylist(items, messages, f"{anchors[0].title} → {anchors[-1].title}", serving.version)


def _segment_walk(
    index: HybridIndex,
    start: Track,
    end: Track,
    steps: int,
    weights: dict[str, float],
    settings: PlaylistSettings,
    filt: CandidateFilter,
    used_ids: set[int],
    used_keys: set[str],
    used_artists: Counter[int | None],
    cap: int | None,
    seen: dict[int, Track],
) -> list[tuple[Track, float]]:
    """``steps`` tracks between ``start`` and ``end``, each strictly closer to ``end`` than the one before.

    Step ``i`` aims at the point ``i/(steps+1)`` of the way along the straight
    line between the two (per modality, re-normalised); the chain of
    candidates with rising closeness to ``end`` that best fits the points is
    found by :func:`ml.playlist.path.monotone_chain`. Returns ``[(track, hybrid similarity to end)]``.
    """
    if steps <= 0:
        return []
    ends = vectors_of(index, [start.id, end.id])
    targets = segment_targets(ends, steps)
    candidates = candidates_search(index, targets, weights, max(50, 8 * steps))
    candidates = np.asarray([c for c in candidates if int(c) not in used_ids], dtype=np.int64)
    fetched = Track.objects.select_related("artist", "album").in_bulk([int(c) for c in candidates])
    seen.update(fetched)
    candidates = np.asarray([c for c in candidates if int(c) in fetched and filt.passes(fetched[int(c)])], dtype=np.int64)
    if candidates.size == 0:
        return []
    tracks = [fetched[int(c)] for c in candidates]
    candidate_vectors = vectors_of(index, candidates)
    start_set = {m: (v[0:1], p[0:1]) for m, (v, p) in ends.items()}
    end_set = {m: (v[1:2], p[1:2]) for m, (v, p) in ends.items()}
    closeness = np.nan_to_num(scores_matrix(candidate_vectors, end_set, weights)[:, 0], nan=-np.inf)
    from_start = float(np.nan_to_num(scores_matrix(start_set, end_set, weights)[0, 0], nan=-1.0))
    banned = ~np.isfinite(closeness) | (closeness <= from_start + 1e-6) | (closeness >= 1.0 - 1e-4)
    if settings.dedupe:
        banned |= np.asarray([track_key(t) in used_keys for t in tracks])
    if cap is not None:
        banned |= np.asarray([used_artists[t.artist_id] >= cap for t in tracks])
    chain: list[int] = []
    for _ in range(len(tracks)):
        wanted = min(steps, int((~banned).sum()))
        if wanted:
            fit = np.nan_to_num(scores_matrix(candidate_vectors, segment_targets(ends, wanted), weights), nan=-1.0)
            chain = monotone_chain(closeness, fit, wanted, banned)
        else:
            chain = []
        # The chain ignores artists and names; ban the weaker of any clash and look again.
        clash = _chain_clash(chain, tracks, settings, cap, used_artists)
        if clash is None:
            break
        banned[clash] = True
    out: list[tuple[Track, float]] = []
    for i in chain:
        track = tracks[i]
        out.append((track, float(closeness[i])))
        used_ids.add(track.id)
        used_keys.add(track_key(track))
        used_artists[track.artist_id] += 1
    return out


def _chain_clash(chain: list[int], tracks: list[Track], settings: PlaylistSettings, cap: int | None, used_artists: Counter[int | None]) -> int | None:
    """A candidate of ``chain`` to drop: a name repeated, or an artist over ``cap``; None when the chain is fine."""
    keys: dict[str, int] = {}
    artists: Counter[int | None] = Counter(used_artists)
    for step, i in enumerate(chain):
        key = track_key(tracks[i])
        if settings.dedupe and key in keys:
            return i
        keys[key] = i
        artists[tracks[i].artist_id] += 1
        if cap is not None and artists[tracks[i].artist_id] > cap:
            return i
    return None
