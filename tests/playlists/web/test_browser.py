"""The site in a real browser: headless Debian Chromium driven by Playwright against the live test server.

A listener logs in, searches, likes a track, looks at a track's pictures,
builds a playlist from seeds found as they type, plays it (next, keys,
resume), exports it and opens the map; an operator runs admin bulk actions
and follows the background task. No page may log a JavaScript error.
Screenshots of the main pages go to ``test-artifacts/screenshots/``.
The fixtures are in this folder's conftest.py, the helpers in tests/support/browser.py.
"""
from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from playlists.models import Job, Playlist, Rating, Track
from tests.support.browser import PASSWORD, log_in, overflowing, shot

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_listener_searches_likes_builds_plays_exports_and_maps(page, live_server, site, listener):
    user = listener
    log_in(page, live_server, "ann")
    expect(page.get_by_role("heading", name="Catalogue")).to_be_visible()
    shot(page, "catalogue")

    # Search.
    page.get_by_role("searchbox", name="Search").fill("sea band")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("table.tracks tbody tr")).to_have_count(2)
    expect(page.get_by_role("link", name="Salt Wind")).to_be_visible()

    # Like a track, in the background, from the catalogue.
    page.get_by_role("button", name="Like Salt Wind", exact=True).click()
    expect(page.get_by_role("button", name="Like Salt Wind", exact=True)).to_have_attribute("aria-pressed", "true")
    assert Rating.objects.get(user=user, track=site["Salt Wind"]).value == 1

    # A track's pictures.
    page.get_by_role("link", name="Salt Wind").click()
    mel = page.get_by_role("img", name="Log-mel spectrogram of Salt Wind")
    expect(mel).to_be_visible()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=mel.element_handle())
    page.get_by_role("tab", name="Chroma").click()
    chroma = page.get_by_role("img", name="Chroma of Salt Wind")
    expect(chroma).to_be_visible()
    expect(mel).to_be_hidden()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=chroma.element_handle())
    shot(page, "track")

    # Build a playlist from seeds found as you type; the settings stay while searching.
    page.goto(f"{live_server.url}/playlists/new/")
    page.get_by_label("Name").fill("Evening in the browser")
    page.locator("#id_balance").fill("0.7")
    expect(page.locator("output[for=id_balance]")).to_have_text("0.7")
    page.get_by_role("combobox", name="Add seeds").fill("neon")
    page.get_by_role("option", name="Neon — Night Shift").click()
    page.get_by_role("combobox", name="Add seeds").fill("westward")
    page.get_by_role("option", name="Westward — Road Band").click()
    expect(page.locator("ul.seed-list input[name=seeds]:checked")).to_have_count(2)
    expect(page.get_by_label("Name")).to_have_value("Evening in the browser")
    expect(page.locator("#id_balance")).to_have_value("0.7")
    page.get_by_label("Length").fill("5")
    shot(page, "playlist_builder")
    page.get_by_role("button", name="Make playlist").click()
    expect(page.get_by_role("heading", name="Evening in the browser")).to_be_visible()
    playlist = Playlist.objects.get(owner=user)
    assert playlist.balance == 0.7 and playlist.items.count() == 5
    assert {i.track_id for i in playlist.items.filter(is_seed=True)} == {site["Neon"].id, site["Westward"].id}

    # Play it in order: play, the next track by key, its explanation.
    page.get_by_role("button", name="Play", exact=True).first.click()
    player = page.locator("#player")
    expect(player).to_be_visible()
    page.wait_for_function("() => document.getElementById('player-audio').currentTime > 0.3")
    expect(page.locator("#player-position")).to_contain_text("1 of 5")
    page.keyboard.press("j")
    expect(page.locator("#player-position")).to_contain_text("2 of 5")
    page.wait_for_function("() => document.getElementById('player-audio').currentTime > 0.3")
    second = playlist.items.all()[1]
    expect(page.locator("#player-title")).to_have_text(second.track.title)
    expect(page.locator("#player-why")).to_have_text(page.locator("#playlist-items li").nth(1).locator(".why").inner_text())
    page.wait_for_function("() => document.getElementById('player-audio').currentTime > 1.2")
    page.keyboard.press("Space")
    page.wait_for_function("() => document.getElementById('player-audio').paused")
    stopped_at = page.evaluate("document.getElementById('player-audio').currentTime")
    shot(page, "playlist_player")

    # Resume within the track after a reload (the audio URL serves byte ranges).
    page.reload()
    expect(page.locator("#player-position")).to_contain_text("2 of 5")
    expect(page.locator("#player-position")).to_contain_text("resumes at")
    page.locator("#player").get_by_role("button", name="Play", exact=True).click()
    page.wait_for_function(f"() => document.getElementById('player-audio').currentTime >= {stopped_at - 0.25}")
    page.get_by_role("button", name="Pause").click()
    page.wait_for_function("() => document.getElementById('player-audio').paused")

    # Export.
    with page.expect_download() as download_info:
        page.get_by_role("link", name="M3U8").click()
    exported = Path(download_info.value.path()).read_text(encoding="utf-8")
    assert exported.startswith("#EXTM3U") and exported.count("#EXTINF") == 5

    # The map, with this playlist drawn on it; a point opens its track.
    page.get_by_role("link", name="Show on the map").click()
    expect(page.locator("svg.map")).to_be_visible()
    expect(page.locator("a.map-point")).to_have_count(Track.objects.count())
    expect(page.locator("a.map-point.on-path")).to_have_count(5)
    expect(page.locator("polyline.map-path")).to_have_count(1)
    assert Job.objects.get(kind="catalogue_map").status == Job.Status.DONE
    shot(page, "map")
    page.get_by_label("Colour by").select_option("language")
    page.get_by_role("button", name="Show").click()
    expect(page.locator(".legend")).to_contain_text("ru")
    page.locator("a.map-point[aria-label^='Neon by']").click()
    expect(page.get_by_role("heading", name="Neon")).to_be_visible()

    # Evaluation and training pictures.
    page.goto(f"{live_server.url}/evaluation/")
    expect(page.get_by_role("img", name="Bar chart of p@10 by method (0 to 1)")).to_be_visible()
    expect(page.locator("table.evaluation tbody tr")).to_have_count(3)
    shot(page, "evaluation")
    page.goto(f"{live_server.url}/models/")
    expect(page.locator("svg.chart polyline")).to_have_count(2)
    shot(page, "models")

    # A phone's width: nothing wider than the screen.
    page.set_viewport_size({"width": 390, "height": 844})
    for name, url in (("phone_catalogue", "/"), ("phone_playlist", f"/playlists/{playlist.id}/"), ("phone_map", "/map/"), ("phone_builder", "/playlists/new/")):
        page.goto(live_server.url + url)
        overflow, wide = overflowing(page)
        assert overflow <= 0, f"{url} is {overflow}px wider than a phone: {wide}"
        shot(page, name)


def test_an_operator_runs_admin_bulk_actions_and_follows_the_task(page, live_server, site, django_user_model):
    django_user_model.objects.create_superuser("root", password=PASSWORD)
    page.goto(f"{live_server.url}/admin/")
    page.get_by_label("Username").fill("root")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("#crossfade-control-room")).to_be_visible()
    shot(page, "admin_index")

    page.goto(f"{live_server.url}/admin/playlists/track/")
    neon = site["Neon"]
    row = page.locator("#result_list tbody tr", has=page.get_by_role("link", name="Neon", exact=True))
    expect(row).to_contain_text("embedded")
    row.locator("input.action-select").check()
    page.locator("select[name=action]").select_option("exclude_from_playlists")
    page.get_by_role("button", name="Go").click()
    expect(page.locator(".messagelist")).to_contain_text("1 tracks excluded")
    assert Track.objects.get(id=neon.id).excluded

    page.locator("#result_list tbody tr", has=page.get_by_role("link", name="Neon", exact=True)).locator("input.action-select").check()
    page.locator("select[name=action]").select_option("reembed_now")
    page.get_by_role("button", name="Go").click()
    expect(page.locator(".messagelist")).to_contain_text("embeddings cleared")
    shot(page, "admin_tracks")
    job = Job.objects.get(kind="reindex")
    assert job.status == Job.Status.DONE and job.outcome["embedded"]["audio"] == 1

    page.goto(f"{live_server.url}/admin/playlists/job/")
    expect(page.locator("#result_list")).to_contain_text("Reindex after re-embedding selected tracks")
    shot(page, "admin_tasks")
    page.goto(f"{live_server.url}/admin/index-versions/")
    expect(page.locator("tr.index-version")).to_have_count(1)
    expect(page.locator("tr.index-version")).to_contain_text("serving")
    shot(page, "admin_index_versions")

    # The site's Tasks page: the reindex button and the finished task with its outcome.
    page.goto(f"{live_server.url}/tasks/")
    page.get_by_role("button", name="Reindex new and changed tracks").click()
    expect(page.locator("tr.job").first).to_contain_text("done")
    assert Job.objects.filter(kind="reindex").count() == 2
    shot(page, "tasks")
