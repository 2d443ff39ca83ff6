"""Pages and JSON endpoints. Thin: parse the request, call a selector or service, render."""
from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from ml.errors import MLError
from playlists import selectors, services
from playlists.errors import CrossfadeError, IndexNotReadyError
from django.core.exceptions import ValidationError

from playlists.forms import FORM_ATTRIBUTES, PlaylistForm
from playlists.generation import upload_analyse
from playlists.models import Artist, Playlist, Track
from playlists.streaming import file_exists, file_response_ranged
from playlists.pictures import SPECTROGRAM_KINDS

PAGE_SIZE = 25


def _balance_param(request: HttpRequest) -> float:
    raw = request.GET.get("balance", "")
    if raw == "":
        return settings.CROSSFADE.default_balance
    value = float(raw)
    if not 0.0 <= value <= 1.0:
        raise ValueError("balance must be between 0 and 1")
    return value


@require_GET
def catalogue(request: HttpRequest) -> HttpResponse:
    filters = {key: request.GET.get(key, "").strip() for key in ("q", "genre", "language", "lyrics", "tag", "vocals")}
    tracks = selectors.track_list(
        query=filters["q"], genre=filters["genre"], language=filters["language"], lyrics=filters["lyrics"], tag=filters["tag"], vocals=filters["vocals"]
    )
    page = Paginator(tracks, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "playlists/catalogue.html",
        {"page": page, "filters": filters, "facets": selectors.track_facets(), "querystring": query.urlencode(), "total": tracks.count()},
    )


@require_GET
def track_detail(request: HttpRequest, track_id: int) -> HttpResponse:
    try:
        track = selectors.track_get(track_id)
    except Track.DoesNotExist:
        raise Http404("No such track")
    try:
        balance = _balance_param(request)
    except ValueError:
        balance = settings.CROSSFADE.default_balance
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
def track_audio(request: HttpRequest, track_id: int) -> HttpResponse:
    track = Track.objects.filter(id=track_id).only("audio_path").first()
    # Only paths the catalogue recorded at ingest are ever served.
    if track is None or not file_exists(track.audio_path):
        raise Http404("No audio for this track")
    return file_response_ranged(request, Path(track.audio_path))


@login_required
@require_http_methods(["GET", "POST"])
def playlist_new(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()
    if request.method == "POST":
        form = PlaylistForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                controls = form.controls()
                upload = form.cleaned_data.get("seed_file")
                if upload:
                    # Analysed here, not in a background task: this request needs the vector to answer,
                    # and the work is bounded (at most CROSSFADE_UPLOAD_MAX_MB read, only the first
                    # max_seconds of audio decoded and embedded; about 0.6 s for a 30 MB file, see docs/site.md).
                    controls["seed_audio"] = [upload_analyse(upload.name, upload.chunks(), size=upload.size)]
                playlist = services.playlist_generate(
                    owner=request.user,
                    seed_ids=controls.pop("seed_ids"),
                    length=form.cleaned_data["length"],
                    balance=form.cleaned_data["balance"],
                    name=form.cleaned_data["name"],
                    **controls,
                )
            except (CrossfadeError, MLError, ValidationError) as error:
                form.add_error(None, error.messages[0] if isinstance(error, ValidationError) else str(error))
            else:
                messages.success(request, f"Saved “{playlist.name}” with {playlist.items.count()} tracks.")
                for note in getattr(playlist, "generation_messages", []):
                    messages.warning(request, note)
                return redirect("playlists:playlist_detail", playlist_id=playlist.id)
        chosen_ids = [int(s) for s in request.POST.getlist("seeds") if s.isdigit()]
    else:
        chosen_ids = [int(s) for s in request.GET.getlist("seed") if s.isdigit()]
        form = PlaylistForm(initial={"balance": settings.CROSSFADE.default_balance, "length": 20, "seed_text": request.GET.get("theme", "").strip()})
    chosen = list(Track.objects.select_related("artist").filter(id__in=chosen_ids))
    chosen.sort(key=lambda t: chosen_ids.index(t.id))
    candidates = selectors.track_list(query=query).exclude(id__in=chosen_ids)[:30]
    return render(
        request,
        "playlists/playlist_new.html",
        {"form": form, "chosen": chosen, "candidates": candidates, "query": query, "artists": Artist.objects.order_by("name"), "attributes": FORM_ATTRIBUTES},
    )


@login_required
@require_GET
def playlist_list(request: HttpRequest) -> HttpResponse:
    return render(request, "playlists/playlist_list.html", {"playlists": selectors.playlist_list(owner=request.user)})


@login_required
@require_GET
def playlist_detail(request: HttpRequest, playlist_id: int) -> HttpResponse:
    try:
        playlist = selectors.playlist_get(owner=request.user, playlist_id=playlist_id)
    except Playlist.DoesNotExist:
        raise Http404("No such playlist")
    return render(request, "playlists/playlist_detail.html", {"playlist": playlist})


def _api_error(status: int, message: str) -> JsonResponse:
    # The shape of Spotify Web API errors, so clients written for it understand ours.
    return JsonResponse({"error": {"status": status, "message": message}}, status=status)


def track_json(track: Track, request: HttpRequest) -> dict:
    return {
        "id": track.id,
        "title": track.title,
        "artist": track.artist.name if track.artist else None,
        "album": track.album.title if track.album else None,
        "duration_ms": int(track.duration_s * 1000) if track.duration_s else None,
        "genres": track.genres,
        "language": track.language or None,
        "has_lyrics": bool(track.lyrics),
        "url": request.build_absolute_uri(track_url(track)),
    }


def track_url(track: Track) -> str:
    from django.urls import reverse

    return reverse("playlists:track_detail", args=[track.id])


@require_GET
def api_track_similar(request: HttpRequest, track_id: int) -> JsonResponse:
    try:
        limit = int(request.GET.get("limit", "10"))
    except ValueError:
        return _api_error(400, "limit must be an integer")
    if not 1 <= limit <= 100:
        return _api_error(400, "limit must be between 1 and 100")
    try:
        balance = _balance_param(request)
    except ValueError:
        return _api_error(400, "balance must be a number between 0 (lyrics only) and 1 (audio only)")
    try:
        track = selectors.track_get(track_id)
    except Track.DoesNotExist:
        return _api_error(404, f"no track with id {track_id}")
    try:
        neighbours = selectors.track_similar(track.id, limit=limit, balance=balance)
    except IndexNotReadyError as error:
        return _api_error(503, str(error))
    return JsonResponse(
        {
            "track": track_json(track, request),
            "balance": balance,
            "limit": limit,
            "results": [{**track_json(n.track, request), "score": round(n.score, 6)} for n in neighbours],
        },
        json_dumps_params={"ensure_ascii": False},
    )


@require_GET
def theme_search(request: HttpRequest) -> HttpResponse:
    """Search by theme: tracks whose lyrics are about what the prompt says, in any language the encoder reads."""
    prompt = request.GET.get("q", "").strip()
    results, error = [], ""
    if prompt:
        try:
            results = selectors.track_theme_search(prompt, limit=PAGE_SIZE)
        except (CrossfadeError, MLError) as problem:
            error = str(problem)
    return render(request, "playlists/theme_search.html", {"prompt": prompt, "results": results, "error": error})


@require_GET
def api_search_lyrics(request: HttpRequest) -> JsonResponse:
    """GET /api/search/lyrics?q=THEME&limit=N: tracks whose lyrics match a theme, best first."""
    prompt = request.GET.get("q", "").strip()
    if not prompt:
        return _api_error(400, "q is required: the theme to search lyrics for, e.g. q=songs about leaving home")
    try:
        limit = int(request.GET.get("limit", "10"))
    except ValueError:
        return _api_error(400, "limit must be an integer")
    if not 1 <= limit <= selectors.MAX_THEME_RESULTS:
        return _api_error(400, f"limit must be between 1 and {selectors.MAX_THEME_RESULTS}")
    from ml.errors import IndexMismatchError
    from ml.text.search import ThemeQueryError

    try:
        results = selectors.track_theme_search(prompt, limit=limit)
    except ThemeQueryError as error:
        return _api_error(400, str(error))
    except (IndexNotReadyError, IndexMismatchError) as error:
        return _api_error(503, str(error))
    return JsonResponse(
        {"q": prompt, "limit": limit, "results": [{**track_json(n.track, request), "score": round(n.score, 6)} for n in results]},
        json_dumps_params={"ensure_ascii": False},
    )
