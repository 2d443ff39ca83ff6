"""The similar mode: seeds -> candidates from the index -> filters -> targets and taste -> dedupe -> diversity -> order.

Catalogue tracks, artists, a text prompt (lyrics space) and uploaded audio
(audio space) are seed rows; a candidate's relevance is its mean hybrid
score over the rows. Catalogue rows use the audio/lyrics ``balance``; a
prompt row scores lyrics only and an upload row audio only, since that is
all they have. The numerical work is :mod:`ml.playlist`; this module
fetches the tracks and applies what only the catalogue knows.
"""
from __future__ import annotations

from collections import Counter
from typing import cast

import numpy as np
from django.contrib.auth.models import AnonymousUser, User

from ml.fusion.hybrid import HybridIndex
from ml.playlist.diversity import mmr_select
from ml.playlist.duplicates import duplicates_mask
from ml.playlist.ordering import continuity_bonus, flow_order_ranked
from ml.playlist.taste import TasteNotReadyError
from ml.playlist.vectors import SeedGroup, VectorSet, candidates_search, relevance, rows, scores_matrix, vectors_of
from playlists.engine import Serving
from playlists.generation.explain import explanations
from playlists.generation.filters import CandidateFilter, attribute_notes, target_penalty, track_attribute
from playlists.generation.result import BuiltItem, BuiltPlaylist
from playlists.generation.seeds import Seeds, seed_groups, seeds_resolve
from playlists.generation.settings import PlaylistSettings
from playlists.metadata.matching import normalised_key
from playlists.models import Track
from playlists.taste.selectors import taste_get


def track_key(track: Track) -> str:
    """The name under which remasters and live versions of ``track`` collapse."""
    return normalised_key(track.artist.name if track.artist else "", track.title)


def flow_similarity(index: HybridIndex, tracks: list[Track], weights: dict[str, float]) -> np.ndarray:
    """Hybrid similarity among ``tracks`` plus small tempo/key continuity bonuses: float64 ``(n, n)``."""
    vector_set = vectors_of(index, [t.id for t in tracks])
    similarity = np.nan_to_num(scores_matrix(vector_set, vector_set, weights).astype(np.float64), nan=0.0)
    tempos = [track_attribute(t, "tempo") for t in tracks]
    keys = [(track_attribute(t, "key"), track_attribute(t, "mode")) for t in tracks]
    flow: np.ndarray = similarity + continuity_bonus(tempos, keys)
    return flow


def _taste_probabilities(user: User | AnonymousUser | None, serving: Serving, ids: np.ndarray, messages: list[str]) -> np.ndarray | None:
    if user is None or isinstance(user, AnonymousUser):
        messages.append("the taste control needs a signed-in user; it was ignored")
        return None
    try:
        model = taste_get(user=user, serving=serving)
    except TasteNotReadyError as error:
        messages.append(f"taste ignored: {error}")
        return None
    return model.like_probability(ids)


def _dedupe_mask(index: HybridIndex, tracks: list[Track], scores: np.ndarray, candidate_vectors: VectorSet, seeds: Seeds, filt: CandidateFilter) -> np.ndarray:
    """False for a candidate that repeats a seed or a better candidate (same normalised artist+title, or the same audio)."""
    audio, audio_present = candidate_vectors.get("audio", (None, None))
    # Only the placed seed tracks: a seed artist's own tracks are wanted, not duplicates.
    seed_audio = None
    if seeds.tracks:
        placed = vectors_of(index, [t.id for t in seeds.tracks if t.id in index]).get("audio")
        seed_audio = placed[0][placed[1]] if placed is not None else None
    keep = duplicates_mask(
        scores,
        [track_key(t) for t in tracks],
        [t.content_hash for t in tracks],
        audio,
        audio_present,
        seen_names={track_key(t) for t in seeds.tracks},
        seen_hashes={t.content_hash for t in seeds.tracks if t.content_hash},
        seed_audio=seed_audio,
    )
    filt.counts["duplicates"] += int((~keep).sum())
    return keep


def _candidate_pool(serving: Serving, seeds: Seeds, groups: list[SeedGroup], k: int) -> np.ndarray:
    """The ``k`` best catalogue ids of every seed row, int64 ``(n,)``: a function of the index version and the seed rows
    alone, so it is kept with the serving snapshot (the same seeds come back: a listener's "more like this", the API)."""

    def search() -> np.ndarray:
        pools = [candidates_search(serving.index, group, group_weights, k) for group, group_weights in groups]
        found = np.concatenate(pools) if pools else np.zeros(0, np.int64)
        found.setflags(write=False)
        return found

    weights_key = tuple(tuple(sorted(group_weights.items())) for _, group_weights in groups)
    return cast(np.ndarray, serving.answers.get(("candidate pool", seeds.key, weights_key, k), search))


def similar_build(serving: Serving, settings: PlaylistSettings, *, user: User | AnonymousUser | None = None) -> BuiltPlaylist:
    """Items (with explanations) for the similar mode; a filter leaving too few tracks gives fewer items and a message."""
    index = serving.index
    weights = settings.weights
    messages: list[str] = []
    seeds = seeds_resolve(serving, settings, messages)
    groups = seed_groups(seeds, weights)
    seed_ids = {t.id for t in seeds.tracks}
    placed = seeds.tracks if settings.include_seeds else []
    wanted = settings.length - len(placed[: settings.length])
    catalogue_size = len(index)
    k = max(200, 4 * settings.length + len(seed_ids))
    filt = CandidateFilter(settings)
    while True:
        found = _candidate_pool(serving, seeds, groups, k)
        candidates = np.asarray(list(dict.fromkeys(int(c) for c in found if int(c) not in seed_ids)), dtype=np.int64)
        fetched = Track.objects.select_related("artist", "album").in_bulk([int(c) for c in candidates])
        keep = [c for c in candidates if int(c) in fetched and filt.passes(fetched[int(c)])]
        if len(keep) >= 3 * wanted or k >= catalogue_size:
            break
        filt = CandidateFilter(settings)
        k = min(catalogue_size, k * 4)
    candidates = np.asarray(keep, dtype=np.int64)
    candidate_vectors = vectors_of(index, candidates)
    scores = relevance(groups, candidate_vectors)
    usable = ~np.isnan(scores)
    if (~usable).any():
        filt.counts["nothing in common with the seeds (no shared modality)"] += int((~usable).sum())
    candidates, scores = candidates[usable], scores[usable]
    candidate_vectors = {m: (v[usable], p[usable]) for m, (v, p) in candidate_vectors.items()}
    tracks = [fetched[int(c)] for c in candidates]
    if settings.attributes:
        scores = scores - np.asarray([target_penalty(t, settings) for t in tracks])
        messages.extend(attribute_notes(settings, list(fetched.values())))
    taste = None
    untasted = scores
    if settings.taste > 0 and candidates.size:
        taste = _taste_probabilities(user, serving, candidates, messages)
        if taste is not None:
            scores = scores + settings.taste * (taste - 0.5)
    allowed = np.ones(candidates.size, bool)
    if settings.dedupe and candidates.size:
        allowed &= _dedupe_mask(index, tracks, scores, candidate_vectors, seeds, filt)
    similarity = scores_matrix(candidate_vectors, candidate_vectors, weights) if candidates.size else np.zeros((0, 0))
    already = None
    if rows(seeds.catalogue) and candidates.size:
        already = np.nanmax(np.nan_to_num(scores_matrix(candidate_vectors, seeds.catalogue, weights), nan=0.0), axis=1)
    used = Counter(t.artist_id for t in placed)

    def select(relevance_of: np.ndarray) -> list[int]:
        return mmr_select(
            relevance_of, similarity, count=max(0, wanted), diversity=settings.diversity, allowed=allowed,
            already=already, group_of=[t.artist_id for t in tracks], group_cap=settings.max_per_artist, group_used=Counter(used),
        )

    picks = select(scores)
    if taste is not None:
        unchanged = select(untasted)
        if unchanged == picks:
            low, high = float(np.min(taste[picks])) if picks else 0.5, float(np.max(taste[picks])) if picks else 0.5
            messages.append(
                "your taste changed nothing here: every track close enough to the seeds is one your taste model rates alike "
                f"({low:.0%} to {high:.0%} likely to be liked); rate more tracks, or choose other seeds"
            )
    if settings.max_per_artist is not None and len(picks) < wanted:
        filt.counts[f"beyond {settings.max_per_artist} per artist"] += int(allowed.sum()) - len(picks)
    chosen = placed[: settings.length] + [tracks[i] for i in picks]
    item_scores = {int(candidates[i]): float(scores[i]) for i in picks}
    if settings.order == "flow" and len(chosen) > 2:
        # Flow keeps relevance: the strongest matches first, the smoothest transitions within each block of them.
        relevance_of = np.asarray([np.inf if t.id in seed_ids else item_scores.get(t.id, -np.inf) for t in chosen])
        order = flow_order_ranked(flow_similarity(index, chosen, weights), relevance_of, fixed_prefix=len(placed[: settings.length]))
        chosen = [chosen[i] for i in order]
    if len(chosen) < settings.length:
        reasons = ", ".join(f"{n} {why}" for why, n in filt.counts.most_common() if n)
        messages.append(
            f"only {len(chosen)} of {settings.length} tracks: the seeds and filters leave no more"
            + (f" (left out: {reasons})" if reasons else "")
        )
    taste_of = dict(zip(map(int, candidates), taste)) if taste is not None else None
    explained = explanations(index, chosen, seeds, settings, taste_of=taste_of)
    placed_ids = {t.id for t in placed}
    items = [BuiltItem(t.id, None if t.id in placed_ids else item_scores.get(t.id), t.id in placed_ids, explained[t.id]) for t in chosen]
    name = seeds.labels[0] if seeds.labels else "Playlist"
    more = f" + {len(seeds.labels) - 1}" if len(seeds.labels) > 1 else ""
    return BuiltPlaylist(items, messages, f"Like {name}{more}", serving.version, tracks={t.id: t for t in chosen})
