"""The Tasks page: long work started from the site (reindex, Spotify lookups, the map) and how it went."""
from __future__ import annotations

from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from playlists.jobs.runner import job_start_once
from playlists.jobs.selectors import job_list as jobs_recent
from playlists.jobs.tasks import reindex_task
from playlists.web.forms import ReindexForm


@login_required
@require_GET
def job_list(request: HttpRequest) -> HttpResponse:
    return render(request, "playlists/jobs.html", {"jobs": jobs_recent(user=request.user)})


@staff_member_required
@require_POST
def reindex_start(request: HttpRequest) -> HttpResponse:
    form = ReindexForm(request.POST)
    full = form.is_valid() and form.cleaned_data["full"]
    job = job_start_once(reindex_task, kind="reindex", key="full" if full else "", label="Full reindex" if full else "Reindex", user=request.user, kwargs={"full": full})
    messages.info(request, f"{job.label}: {job.get_status_display()}. Progress and outcome are on this page.")
    return redirect("playlists:job_list")
