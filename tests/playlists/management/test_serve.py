"""``manage.py serve`` (``make serve``): gunicorn with DEBUG off, static files, a kept key, and the db_worker beside it.

The probe: ``make serve`` ran ``runserver``. Here the real command runs in a
child process, on a data folder of its own, and is driven over HTTP.
"""
from __future__ import annotations

import os
import re
import time

import pytest
import requests
from django.core.management import call_command

from tests.support.site_server import site_running


def test_serve_runs_gunicorn_without_debug_and_the_db_worker(tmp_path):
    with site_running(tmp_path / "data", workers=2, threads=2) as site:
        processes = site.processes()
        commands = list(processes.values())
        assert sum("gunicorn" in c for c in commands) == 3, commands  # the master and two workers
        assert any("db_worker" in c for c in commands), commands

        assert (tmp_path / "data" / "secret_key").is_file()
        home = requests.get(site.url, allow_redirects=False, timeout=30)
        assert home.status_code == 302 and home.headers["Location"].startswith("/accounts/login/")
        missing = requests.get(site.url + "no/such/page/", timeout=30)
        assert missing.status_code in (302, 404)
        login = requests.get(site.url + "accounts/login/", timeout=30)
        assert login.status_code == 200 and "script-src 'self'" in login.headers["Content-Security-Policy"]
        assert "DEBUG = True" not in login.text
        static = requests.get(site.url + "static/playlists/site.js", timeout=30)
        assert static.status_code == 200 and "setupSliders" in static.text
        traversal = requests.get(site.url + "static/..%2f..%2fconfig%2fsettings.py", timeout=30)
        assert traversal.status_code == 404 and "SECRET_KEY" not in traversal.text

        # A signed-in 404 is the plain page, never Django's debug page.
        session = requests.Session()
        page = session.get(site.url + "accounts/login/", timeout=30)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        created = site.manage("shell", "-c", "from django.contrib.auth import get_user_model; get_user_model().objects.create_user('ana', password='a-long-password-1')")
        assert created.returncode == 0, created.stderr
        signed_in = session.post(site.url + "accounts/login/", data={"username": "ana", "password": "a-long-password-1", "csrfmiddlewaretoken": token}, allow_redirects=False, timeout=30)
        assert signed_in.status_code == 302
        missing = session.get(site.url + "tracks/999999/", timeout=30)
        assert missing.status_code == 404 and "Traceback" not in missing.text and "DEBUG" not in missing.text and str(tmp_path) not in missing.text

        # The db_worker runs what the site queues.
        job = site.shell_json(
            "import json; from playlists.jobs.runner import job_start; from playlists.jobs.tasks import spotify_enrich_job_task; "
            "print('JSON' + json.dumps(job_start(spotify_enrich_job_task, kind='spotify_enrich', label='probe', args=([],)).id))"
        )
        deadline = time.monotonic() + 90
        status = "queued"
        while time.monotonic() < deadline and status in ("queued", "running"):
            time.sleep(0.5)
            status = site.shell_json(f"import json; from playlists.models import Job; print('JSON' + json.dumps(Job.objects.get(id={job}).status))")
        assert status in ("done", "failed"), "the db_worker never picked the job up"
    for pid in processes:
        assert not os.path.exists(f"/proc/{pid}") or open(f"/proc/{pid}/stat").read().split()[2] == "Z", f"{processes[pid]} still running"


def test_the_dry_run_names_the_commands_and_workers_follow_the_setting(settings, capsys):
    settings.CROSSFADE_WEB_WORKERS = 3
    call_command("serve", "--dry-run", "--port", "8123")
    out = capsys.readouterr().out
    assert "gunicorn config.wsgi:application --bind 127.0.0.1:8123 --workers 3 --threads 4 --worker-class gthread" in out
    assert "db_worker" in out
    call_command("serve", "--dry-run", "--no-worker")
    assert "db_worker" not in capsys.readouterr().out


@pytest.mark.parametrize("option", ["--workers", "--threads"])
def test_zero_workers_or_threads_are_refused(option):
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="at least 1"):
        call_command("serve", "--dry-run", option, "0")


def test_killing_serve_outright_leaves_no_server_behind(tmp_path):
    import signal

    with site_running(tmp_path / "data", workers=1, threads=1) as site:
        children = {pid: command for pid, command in site.processes().items() if pid != site.process.pid}
        assert any("gunicorn" in c for c in children.values()) and any("db_worker" in c for c in children.values())
        os.kill(site.process.pid, signal.SIGKILL)
        site.process.wait(10)
        deadline = time.monotonic() + 40
        alive = dict(children)
        while alive and time.monotonic() < deadline:
            time.sleep(0.5)
            alive = {pid: c for pid, c in alive.items() if os.path.exists(f"/proc/{pid}") and open(f"/proc/{pid}/stat").read().split(") ")[1][0] != "Z"}
        assert alive == {}, f"left running: {alive}"
