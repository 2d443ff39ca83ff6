"""Pages of issue 8: background tasks, pictures (spectrograms, map, evaluation, training curves), seed search.

Thin like the other views: parse, call a selector/service, render.
"""
from __future__ import annotations

from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from playlists import catalogue_map, engine, jobs, pictures, selectors
from playlists.models import Job, Playlist, Track
from playlists.tasks import catalogue_map_task, reindex_task

SEARCH_LIMIT = 12


# -- tasks --------------------------------------------------------------------------
@login_required
@require_GET
def job_list(request: HttpRequest) -> HttpResponse:
    return render(request, "playlists/jobs.html", {"jobs": jobs.job_list(user=request.user)})


@login_required
@require_GET
def job_status(request: HttpRequest, job_id: int) -> JsonResponse:
    job = jobs.jobs_visible(user=request.user).filter(id=job_id).first()
    if job is None:
        return JsonResponse({"error": {"status": 404, "message": f"no task {job_id}"}}, status=404)
    return JsonResponse(jobs.job_json(job))


@staff_member_required
@require_POST
def reindex_start(request: HttpRequest) -> HttpResponse:
    full = request.POST.get("full") == "1"
    job = jobs.job_start_once(reindex_task, kind="reindex", key="full" if full else "", label="Full reindex" if full else "Reindex", user=request.user, kwargs={"full": full})
    messages.info(request, f"{job.label}: {job.get_status_display()}. Progress and outcome are on this page.")
    return redirect("playlists:job_list")


# -- pictures ------------------------------------------------------------------------
@require_GET
def track_picture(request: HttpRequest, track_id: int, kind: str) -> HttpResponse:
    track = Track.objects.filter(id=track_id).first()
    if track is None or kind not in pictures.SPECTROGRAM_KINDS:
        raise Http404("No such picture")
    try:
        path = pictures.spectrogram_png(track, kind)
    except pictures.PictureError as error:
        raise Http404(str(error))
    response = FileResponse(path.open("rb"), content_type="image/png")
    response["Cache-Control"] = "max-age=86400"
    return response


@require_GET
def catalogue_map_page(request: HttpRequest) -> HttpResponse:
    colour_by = request.GET.get("colour", "genre")
    version = engine.index_store().current_version()
    context: dict = {"colour_by": colour_by, "choices": catalogue_map.COLOUR_BY, "version": version, "size": catalogue_map.SIZE, "job": None, "data": None}
    playlist = None
    if request.user.is_authenticated and request.GET.get("playlist", "").isdigit():
        playlist = Playlist.objects.filter(owner=request.user, id=int(request.GET["playlist"])).first()
    context["playlist"] = playlist
    context["playlists"] = selectors.playlist_list(owner=request.user)[:30] if request.user.is_authenticated else []
    if version is None:
        return render(request, "playlists/map.html", context)
    data = catalogue_map.map_load(version)
    if data is None:
        # Laying out the catalogue takes a while: a worker does it once per index version.
        job = Job.objects.filter(kind="catalogue_map", key=version).first()
        if job is None or job.status == Job.Status.DONE or (job.status == Job.Status.FAILED and request.GET.get("retry")):
            job = jobs.job_start_once(catalogue_map_task, kind="catalogue_map", key=version, label=f"Catalogue map of {version}", user=request.user)
        context["job"] = job
        data = catalogue_map.map_load(version)
    if data is not None:
        path_ids = list(playlist.items.values_list("track_id", flat=True)) if playlist else None
        context["points"], context["legend"], context["path"] = catalogue_map.map_points(data, colour_by=colour_by, path_ids=path_ids)
        context["data"] = data
    return render(request, "playlists/map.html", context)


@require_GET
def evaluation_page(request: HttpRequest) -> HttpResponse:
    path, report, problem = pictures.evaluation_report()
    context = {"path": path, "report": report, "problem": problem, "configured": pictures.settings.CROSSFADE_EVALUATION_REPORT}
    if report is not None:
        context.update(pictures.evaluation_table(report))
    return render(request, "playlists/evaluation.html", context)


@require_GET
def models_page(request: HttpRequest) -> HttpResponse:
    curves, problems = pictures.training_curves()
    return render(
        request,
        "playlists/models.html",
        {"curves": curves, "problems": problems, "root": pictures.settings.CROSSFADE_MODELS_DIR, "w": pictures.CHART_W, "h": pictures.CHART_H, "pad": pictures.CHART_PAD},
    )


# -- seed search as you type --------------------------------------------------------------
@require_GET
def api_track_search(request: HttpRequest) -> JsonResponse:
    query = request.GET.get("q", "").strip()
    if len(query) > 200:
        return JsonResponse({"error": {"status": 400, "message": "the query is longer than 200 characters"}}, status=400)
    tracks = selectors.track_list(query=query)[:SEARCH_LIMIT] if query else []
    return JsonResponse(
        {
            "query": query,
            "results": [
                {"id": t.id, "title": t.title, "artist": t.artist.name if t.artist else "", "url": reverse("playlists:track_detail", args=[t.id])}
                for t in tracks
            ],
        },
        json_dumps_params={"ensure_ascii": False},
    )
