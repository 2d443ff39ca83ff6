"""The catalogue pages: the list with search and filters, one track, its audio, and search by theme."""
from __future__ import annotations

from typing import Any

from django.core.cache import caches
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render
from django.views.decorators.http import require_GET

from ml.errors import MLError
from playlists import engine
from playlists.catalogue import selectors
from playlists.catalogue.library import path_in_library
from playlists.catalogue.streaming import file_exists, file_response_ranged
from playlists.errors import CrossfadeError, IndexNotReadyError
from playlists.models import Album, Artist, Track
from playlists.pictures.spectrograms import SPECTROGRAM_KINDS
from playlists.taste.selectors import ratings_of
from playlists.web.access import media_login_required
from playlists.web.forms import BalanceForm, CatalogueFilterForm, ThemeSearchForm
from playlists.web.fragments import rows_digest

PAGE_SIZE = 25
#: How long the catalogue's filter options are kept (see :func:`catalogue_facets`).
FACETS_SECONDS = 30


@require_GET
def catalogue(request: HttpRequest) -> HttpResponse:
    filters = CatalogueFilterForm(request.GET).filters()
    tracks = selectors.track_list(
        query=filters["q"], genre=filters["genre"], language=filters["language"], lyrics=filters["lyrics"], tag=filters["tag"], vocals=filters["vocals"],
        sort=filters["sort"],
    )
    page = Paginator(tracks, PAGE_SIZE).get_page(request.GET.get("page"))
    listed = list(page.object_list)
    query = request.GET.copy()
    query.pop("page", None)
    facets = catalogue_facets()
    ratings: dict[int, int] = {}
    if request.user.is_authenticated:
        # The rating buttons' state: read once here (the {% rating_of %} tag takes it from the request) and part of the key.
        ratings = request._crossfade_ratings = ratings_of(user=request.user)  # type: ignore[attr-defined]
    rows = [row for track in listed for row in (track, track.artist, track.album)]
    content_key = rows_digest(rows, page.number, page.paginator.count, facets, sorted((t.id, ratings.get(t.id, 0)) for t in listed))
    return render(
        request,
        "playlists/catalogue.html",
        {"page": page, "filters": filters, "facets": facets, "querystring": query.urlencode(), "total": page.paginator.count, "content_key": content_key},
    )


def catalogue_facets() -> dict[str, Any]:
    """The catalogue's filter options (:func:`selectors.track_facets`: a pass over every track), kept a little while.

    Kept per index version and catalogue size for at most :data:`FACETS_SECONDS`,
    so a new genre or language from an ingest is offered within that time, and
    a reindex (new audio tags, a new version) at once.
    """
    serving = engine.serving()
    key = f"catalogue-facets:{serving.version if serving else ''}:{Track.objects.count()}"
    cache = caches["answers"]
    kept = cache.get(key)
    if isinstance(kept, dict):
        return dict(kept)
    facets = selectors.track_facets()
    cache.set(key, facets, timeout=FACETS_SECONDS)
    return facets


@require_GET
def track_detail(request: HttpRequest, track_id: int) -> HttpResponse:
    try:
        track = selectors.track_get(track_id)
    except Track.DoesNotExist:
        raise Http404("No such track")
    balance = BalanceForm(request.GET).balance_or_default()
    neighbours, similar_error = [], ""
    try:
        neighbours = selectors.track_similar(track.id, limit=10, balance=balance)
    except IndexNotReadyError as error:
        similar_error = str(error)
    return render(
        request,
        "playlists/track_detail.html",
        {
            "track": track,
            "states": selectors.track_embedding_states(track),
            "neighbours": neighbours,
            "similar_error": similar_error,
            "balance": balance,
            "playable": file_exists(track.audio_path),
            "picture_kinds": SPECTROGRAM_KINDS,
        },
    )


@require_GET
def artist_detail(request: HttpRequest, artist_id: int) -> HttpResponse:
    try:
        artist, albums, tracks = selectors.artist_get(artist_id)
    except Artist.DoesNotExist:
        raise Http404("No such artist")
    listed = list(tracks)
    genres = sorted({g for t in listed for g in t.genres}, key=str.casefold)
    return render(request, "playlists/artist_detail.html", {"artist": artist, "albums": albums, "tracks": listed, "genres": genres})


@require_GET
def album_detail(request: HttpRequest, album_id: int) -> HttpResponse:
    try:
        album, tracks = selectors.album_get(album_id)
    except Album.DoesNotExist:
        raise Http404("No such album")
    listed = list(tracks)
    return render(request, "playlists/album_detail.html", {"album": album, "tracks": listed, "total_s": sum(t.duration_s or 0 for t in listed)})


@media_login_required
@require_GET
def track_audio(request: HttpRequest, track_id: int) -> HttpResponseBase:
    track = Track.objects.filter(id=track_id).only("audio_path").first()
    # Only files inside the library roots are ever served, whatever a row says (symlinks resolved).
    path = path_in_library(track.audio_path) if track is not None else None
    if path is None:
        raise Http404("No audio for this track")
    return file_response_ranged(request, path)


@require_GET
def theme_search(request: HttpRequest) -> HttpResponse:
    """Search by theme or by sound: tracks whose lyrics are about what the prompt says (in any language the
    encoder reads), whose audio tags match how it says they sound, or both."""
    form = ThemeSearchForm(request.GET)
    prompt = form.cleaned_data["q"] if form.is_valid() else ""
    mode = form.cleaned_data.get("mode") or "lyrics" if form.is_valid() else "lyrics"
    results: list[selectors.PromptNeighbour] | list[selectors.Neighbour] = []
    error = ""
    if prompt:
        try:
            # A theme alone keeps theme search's own ranking (matches clearly above a meaningless prompt's).
            results = selectors.track_theme_search(prompt, limit=PAGE_SIZE) if mode == "lyrics" else selectors.track_prompt_search(prompt, mode=mode, limit=PAGE_SIZE)
        except (CrossfadeError, MLError) as problem:
            error = str(problem)
    has_lyrics = Track.objects.with_lyrics().exists()
    return render(request, "playlists/theme_search.html", {"prompt": prompt, "mode": mode, "results": results, "error": error, "has_lyrics": has_lyrics})
