"""Writes never fail under concurrency: 20 listeners liking tracks while the db_worker reindexes and ``ingest`` runs.

The probe: 20 clients liking tracks beside ``db_worker`` got 13 % HTTP 500
"database is locked" (68 % without pauses), and ``ingest`` and ``reindex
--full`` crashed beside the worker. Everything here runs in its own
processes, as in production: ``manage.py serve`` (gunicorn workers and the
db_worker), an ``ingest`` command, and 20 client threads without pauses.
``tests/playlists/test_postgres.py`` runs this module on PostgreSQL too.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
import threading
import time

import requests

from tests.support.site_server import ROOT, site_running

LISTENERS = 20
LIKES_EACH = 15


def test_likers_a_worker_and_an_ingest_at_once_lose_nothing(tmp_path, library_template):
    data = tmp_path / "data"
    first, second = tmp_path / "music" / "first", tmp_path / "music" / "second"
    shutil.copytree(library_template, first)
    shutil.copytree(library_template, second)
    # A light audio model keeps the worker's reindex short; the point is its writes, not its vectors.
    with site_running(data, CROSSFADE_LIBRARY_ROOTS=str(tmp_path / "music"), CROSSFADE_AUDIO_MODEL="mfcc-stats", CROSSFADE_AUDIO_MAX_SECONDS="3") as site:
        setup = site.shell_json(
            f"""
import json
from django.contrib.auth import get_user_model
from playlists.accounts.tokens import api_token_create
from playlists.catalogue.ingest import library_ingest
from playlists.models import Track
library_ingest({str(first)!r})
tokens = [api_token_create(user=get_user_model().objects.create_user(f"listener{{i}}", password="a-long-password-1"))[1] for i in range({LISTENERS})]
print("JSON" + json.dumps({{"tokens": tokens, "tracks": sorted(Track.objects.values_list("id", flat=True))}}))
""",
        )
        tracks, tokens = setup["tracks"], setup["tokens"]
        assert len(tracks) == 6 and len(tokens) == LISTENERS

        # The worker's share: a full reindex (embeds and writes every track) and a queue of small jobs.
        jobs = site.shell_json(
            """
import json
from playlists.jobs.runner import job_start
from playlists.jobs.tasks import reindex_task, spotify_enrich_job_task
ids = [job_start(reindex_task, kind="reindex", label="full", kwargs={"full": True}).id]
ids += [job_start(spotify_enrich_job_task, kind="spotify_enrich", label=f"lookup {i}", args=([],)).id for i in range(10)]
print("JSON" + json.dumps(ids))
"""
        )

        outcomes: list[tuple[int, int, int, str]] = []  # listener, track, value, HTTP status or error
        expected: dict[tuple[int, int], int] = {}
        lock = threading.Lock()
        start = threading.Event()

        def listener(number: int) -> None:
            session = requests.Session()
            session.headers["Authorization"] = f"Bearer {tokens[number]}"
            start.wait(30)
            for n in range(LIKES_EACH):
                track = tracks[(number + n) % len(tracks)]
                value = 1 if (number + n) % 3 else -1
                try:
                    status = str(session.post(f"{site.url}api/tracks/{track}/rating", json={"rating": value}, timeout=120).status_code)
                except requests.RequestException as error:
                    status = type(error).__name__
                with lock:
                    outcomes.append((number, track, value, status))
                    if status == "200":
                        expected[(number, track)] = value

        ingest = subprocess.Popen(
            [sys.executable, "manage.py", "ingest", str(second)], cwd=ROOT, env=site.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        threads = [threading.Thread(target=listener, args=(i,)) for i in range(LISTENERS)]
        for thread in threads:
            thread.start()
        start.set()
        for thread in threads:
            thread.join(300)
        ingest_out, ingest_err = ingest.communicate(timeout=300)

        failures = [o for o in outcomes if o[3] != "200"]
        assert len(outcomes) == LISTENERS * LIKES_EACH and failures == [], f"{len(failures)} of {len(outcomes)} likes failed: {failures[:5]}\n{site.log.read_text()[-3000:]}"
        assert ingest.returncode == 0, ingest_err[-3000:]
        assert "6 added" in ingest_out and "locked" not in ingest_out + ingest_err

        deadline = time.monotonic() + 240
        states: dict[str, str] = {}
        while time.monotonic() < deadline:
            states = site.shell_json(f"import json; from playlists.models import Job; print('JSON' + json.dumps(dict((str(i), s) for i, s in Job.objects.filter(id__in={jobs}).values_list('id', 'status'))))")
            if all(s in ("done", "failed") for s in states.values()):
                break
            time.sleep(1)
        assert states[str(jobs[0])] == "done", f"the worker's reindex did not finish cleanly: {states}\n{site.log.read_text()[-3000:]}"
        errors = site.shell_json(f"import json; from playlists.models import Job; print('JSON' + json.dumps([e for e in Job.objects.filter(id__in={jobs}).values_list('error', flat=True) if 'locked' in e]))")
        assert errors == []

        stored = site.shell_json(
            "import json; from playlists.models import Rating; "
            "print('JSON' + json.dumps([[int(r.user.username[8:]), r.track_id, r.value] for r in Rating.objects.select_related('user')]))"
        )
        assert {(listener, track): value for listener, track, value in stored} == expected, "every like is stored, the last one of each listener and track"
        total = site.shell_json("import json; from playlists.models import Track; print('JSON' + json.dumps(Track.objects.count()))")
        assert total == 12
