"""Pictures of the music: a track's spectrograms, the catalogue map, the evaluation report and training curves."""
from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render
from django.views.decorators.http import require_GET

from playlists import engine
from playlists.jobs.runner import job_start_once
from playlists.jobs.tasks import catalogue_map_task
from playlists.keep.selectors import playlist_list
from playlists.models import Job, Playlist, Track
from playlists.pictures import catalogue_map, charts, spectrograms
from playlists.pictures.files import PictureError
from playlists.web.access import media_login_required
from playlists.web.forms import MapForm


@media_login_required
@require_GET
def track_picture(request: HttpRequest, track_id: int, kind: str) -> HttpResponseBase:
    track = Track.objects.filter(id=track_id).first()
    if track is None or kind not in spectrograms.SPECTROGRAM_KINDS:
        raise Http404("No such picture")
    try:
        path = spectrograms.spectrogram_png(track, kind)
    except PictureError as error:
        raise Http404(str(error))
    response = FileResponse(path.open("rb"), content_type="image/png")
    response["Cache-Control"] = "max-age=86400"
    return response


@require_GET
def catalogue_map_page(request: HttpRequest) -> HttpResponse:
    form = MapForm(request.GET)
    options = form.cleaned_data if form.is_valid() else {}
    colour_by = options.get("colour") or "genre"
    serving = engine.serving()
    version = serving.version if serving is not None else None
    context: dict[str, Any] = {"colour_by": colour_by, "choices": catalogue_map.COLOUR_BY, "version": version, "size": catalogue_map.SIZE, "job": None, "data": None}
    playlist = None
    if request.user.is_authenticated and options.get("playlist"):
        playlist = Playlist.objects.filter(owner=request.user, id=options["playlist"]).first()
    context["playlist"] = playlist
    context["playlists"] = playlist_list(owner=request.user)[:30] if request.user.is_authenticated else []
    if version is None:
        return render(request, "playlists/map.html", context)
    data = catalogue_map.map_load(version)
    if data is None:
        # Laying out the catalogue takes a while: a worker does it once per index version.
        job = Job.objects.filter(kind="catalogue_map", key=version).first()
        if job is None or job.status == Job.Status.DONE or (job.status == Job.Status.FAILED and options.get("retry")):
            job = job_start_once(catalogue_map_task, kind="catalogue_map", key=version, label=f"Catalogue map of {version}", user=request.user)
        context["job"] = job
        data = catalogue_map.map_load(version)
    if data is not None:
        path_ids = list(playlist.items.values_list("track_id", flat=True)) if playlist else None
        context["points"], context["legend"], context["path"] = catalogue_map.map_points(data, colour_by=colour_by, path_ids=path_ids)
        context["path_start"], context["path_end"] = catalogue_map.map_path_ends(context["points"], path_ids)
        context["layout"] = catalogue_map.map_layout_summary(data)
        context["data"] = data
    return render(request, "playlists/map.html", context)


@require_GET
def evaluation_page(request: HttpRequest) -> HttpResponse:
    path, report, problem = charts.evaluation_report()
    context = {"path": path, "report": report, "problem": problem, "configured": settings.CROSSFADE_EVALUATION_REPORT}
    if report is not None:
        context.update(charts.evaluation_table(report))
    return render(request, "playlists/evaluation.html", context)


@require_GET
def models_page(request: HttpRequest) -> HttpResponse:
    curves, problems = charts.training_curves()
    return render(
        request,
        "playlists/models.html",
        {"curves": curves, "problems": problems, "root": settings.CROSSFADE_MODELS_DIR, "w": charts.CHART_W, "h": charts.CHART_H, "pad": charts.CHART_PAD},
    )
