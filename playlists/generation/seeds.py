"""Seeds of every kind as rows of the hybrid space: catalogue tracks, artists, a text prompt, uploaded audio."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from ml.playlist.vectors import SeedGroup, VectorSet, rows, typicality, vectors_concat, vectors_of, vectors_single
from ml.text.search import prompt_encode
from playlists import engine
from playlists.catalogue.browse import genre_track_ids
from playlists.engine import Serving
from playlists.errors import IndexNotReadyError, SeedError, UploadError
from playlists.generation.settings import ARTIST_SEED_TRACKS, PlaylistSettings
from playlists.models import Artist, Track


@dataclass
class Seeds:
    """Seed rows and what they came from."""

    tracks: list[Track]  # catalogue seed tracks, in the user's order
    artist_tracks: list[Track]  # tracks standing for seed artists and genres
    catalogue: VectorSet  # rows of tracks + artist_tracks (balance weights)
    text: VectorSet | None  # one lyrics row
    audio: VectorSet | None  # upload rows (audio only)
    labels: list[str]
    #: What the rows are, hashable: the catalogue ids, the prompt, the uploads' vectors. Within one index version
    #: equal keys mean equal rows, so what is computed from the rows alone can be kept with the snapshot.
    key: tuple[object, ...] = ()


def seeds_resolve(serving: Serving, settings: PlaylistSettings, messages: list[str]) -> Seeds:
    """The seed rows of ``settings`` against the serving index; notes what could not be used in ``messages``.

    Raises :class:`SeedError` for unknown tracks or artists, :class:`UploadError`
    for an upload analysed with another model, :class:`IndexNotReadyError`
    when no seed is in the index.
    """
    index = serving.index
    tracks_by_id = Track.objects.select_related("artist", "album").in_bulk(settings.seed_ids)
    unknown = [s for s in settings.seed_ids if s not in tracks_by_id]
    if unknown:
        raise SeedError(f"unknown seed track ids: {', '.join(map(str, unknown))}")
    tracks = [tracks_by_id[s] for s in settings.seed_ids]
    not_indexed = [t for t in tracks if t.id not in index]
    if not_indexed:
        messages.append(f"not indexed yet, so only placed, not matched: {', '.join(t.title for t in not_indexed)} (run reindex)")
    labels = [t.title for t in tracks]
    artist_tracks: list[Track] = []
    if settings.seed_artist_ids:
        artists = Artist.objects.in_bulk(settings.seed_artist_ids)
        missing = [a for a in settings.seed_artist_ids if a not in artists]
        if missing:
            raise SeedError(f"unknown seed artist ids: {', '.join(map(str, missing))}")
        for artist_id in settings.seed_artist_ids:
            theirs = [t for t in Track.objects.select_related("artist", "album").filter(artist_id=artist_id, excluded=False).order_by("id") if t.id in index]
            if not theirs:
                messages.append(f"{artists[artist_id].name} has no indexed tracks to seed from")
            artist_tracks.extend(theirs[:ARTIST_SEED_TRACKS])
            labels.append(artists[artist_id].name)
    if settings.seed_genres:
        excluded = set(Track.objects.filter(excluded=True).values_list("id", flat=True))
        for genre in settings.seed_genres:
            candidates = [i for i in genre_track_ids(genre) if i in index and i not in excluded]
            if not candidates:
                raise SeedError(f"no indexed track has the genre {genre!r}; see the available genre seeds")
            ranking = np.nan_to_num(typicality(vectors_of(index, candidates), settings.weights), nan=-np.inf)
            typical = [candidates[i] for i in np.argsort(-ranking, kind="stable")[:ARTIST_SEED_TRACKS]]
            chosen = Track.objects.select_related("artist", "album").in_bulk(typical)
            artist_tracks.extend(chosen[i] for i in typical if i in chosen)
            labels.append(genre)
    catalogue_ids = list(dict.fromkeys([t.id for t in tracks if t.id in index] + [t.id for t in artist_tracks if t.id not in tracks_by_id]))
    catalogue = vectors_of(index, catalogue_ids)
    text = None
    if settings.seed_text:
        if "lyrics" not in index.indexes:
            messages.append("no lyrics are indexed, so the text prompt cannot match anything")
        else:
            text = vectors_single(index, "lyrics", prompt_vector(serving, settings.seed_text))
            labels.append(f"“{settings.seed_text[:40]}”")
    audio = None
    if settings.seed_audio:
        if "audio" not in index.indexes:
            raise IndexNotReadyError("no audio is indexed, so an uploaded file cannot be matched")
        parts = []
        for upload in settings.seed_audio:
            if upload.get("model_version") != index.model_versions.get("audio"):
                raise UploadError(f"“{upload.get('name')}” was analysed with another audio model than the index uses; upload it again")
            parts.append(vectors_single(index, "audio", np.asarray(upload["vector"], np.float32)))
            labels.append(str(upload.get("name", "upload")))
        audio = vectors_concat(index, parts)
    if rows(catalogue) == 0 and text is None and audio is None:
        raise IndexNotReadyError("none of the seeds is indexed yet; run `manage.py reindex`")
    uploads = tuple(hashlib.sha256(np.asarray(u["vector"], np.float32).tobytes()).hexdigest() for u in settings.seed_audio) if audio is not None else ()
    key = (tuple(catalogue_ids), settings.seed_text if text is not None else "", uploads)
    return Seeds(tracks, artist_tracks, catalogue, text, audio, labels, key)


def prompt_vector(serving: Serving, text: str) -> np.ndarray:
    """The lyrics encoder's vector of a prompt, ``(dim,)``, kept with the serving snapshot (encoding costs more than the rest of a request).

    The same prompt handling as theme search: framing words dropped, the encoder's query side.
    """
    embedder = engine.embedder_get("lyrics")
    return serving.prompts.get((embedder.version, text), lambda: prompt_encode(embedder, text))


def seed_groups(seeds: Seeds, weights: dict[str, float]) -> list[SeedGroup]:
    """Seed rows with the weights they score with: catalogue seeds at the balance, a prompt on lyrics, an upload on audio."""
    groups: list[SeedGroup] = []
    if rows(seeds.catalogue):
        groups.append((seeds.catalogue, weights))
    if seeds.text is not None:
        groups.append((seeds.text, {"lyrics": 1.0}))
    if seeds.audio is not None:
        groups.append((seeds.audio, {"audio": 1.0}))
    return groups
