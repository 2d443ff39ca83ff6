"""The player that stays, instant mixes and the pages around them, in a real browser.

One page shell: navigation swaps the page (htmx, hx-boost) and leaves the player playing; it has a
queue, marks the track playing wherever it is listed, tells the media session (the OS's media keys
and lock screen) what plays, and answers media keys. One click on a track, an album or an artist
starts an instant mix at once, which can be saved as a playlist. Every page is looked at at 1440 and
390 px: no console error, nothing wider than the screen; screenshots go to test-artifacts/screenshots/.
"""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from playlists.models import Album, Artist, Playlist, Track
from tests.support.browser import audio_state, log_in, overflowing, page_new, playlist_make, shot

pytestmark = pytest.mark.django_db(transaction=True)


def _playing_after(page, seconds: float) -> None:
    page.wait_for_function(f"() => {{ const a = document.getElementById('player-audio'); return !a.paused && a.currentTime > {seconds}; }}")


def test_the_player_keeps_playing_while_you_browse(page, live_server, site, listener):
    playlist = playlist_make(listener, [site["Neon"]], length=5)
    items = list(playlist.items.all())
    log_in(page, live_server, "ann")
    page.goto(f"{live_server.url}/playlists/{playlist.id}/")
    page.get_by_role("button", name="Play", exact=True).first.click()
    _playing_after(page, 0.2)
    page.evaluate("window.sameAudio = document.getElementById('player-audio')")
    title = items[0].track.title

    nav = page.get_by_role("navigation", name="Main")
    pages = (("Catalogue", "Catalogue", "Catalogue"), ("Themes", "Search by theme", "Search by theme"), ("Map", "Catalogue map", "Map"), ("My playlists", "My playlists", "My playlists"))
    for link, heading, window_title in pages:
        before = audio_state(page)["time"]
        nav.get_by_role("link", name=link).click()
        expect(page.locator("#main h1")).to_have_text(re.compile(rf"^{re.escape(heading)}"))
        expect(page).to_have_title(re.compile(rf"^{re.escape(window_title)} · Crossfade"))
        _playing_after(page, before)
        assert page.evaluate("window.sameAudio === document.getElementById('player-audio')"), f"the player was rebuilt on {link}"
        expect(page.locator("#player-title")).to_have_text(title)
    # Back to the playlist with the browser's back button: still playing, its row marked.
    for _, heading, _ in reversed(pages[:-1]):
        page.go_back()
        expect(page.locator("#main h1")).to_have_text(re.compile(rf"^{re.escape(heading)}"))
    page.go_back()
    expect(page.get_by_role("heading", name=playlist.name)).to_be_visible()
    assert page.evaluate("window.sameAudio === document.getElementById('player-audio')"), "going back rebuilt the player"
    state = page.evaluate("() => { const a = document.getElementById('player-audio'); return {paused: a.paused, ended: a.ended}; }")
    assert not state["paused"] or (state["ended"] and page.locator("#player-position").inner_text() == "5 of 5"), state
    expect(page.locator(f"#playlist-items li[data-track-id='{items[0].track_id}']")).to_have_attribute("aria-current", "true")
    # A link inside the player goes to the track playing, still without a reload.
    page.locator("#player-title").click()
    expect(page.get_by_role("heading", name=title, exact=True)).to_be_visible()
    assert page.evaluate("window.sameAudio === document.getElementById('player-audio')") and not audio_state(page)["paused"]


def test_the_queue_the_marked_row_media_session_and_media_keys(page, live_server, site, listener):
    playlist = playlist_make(listener, [site["Neon"]], length=5)
    titles = [item.track.title for item in playlist.items.all()]
    log_in(page, live_server, "ann")
    page.goto(f"{live_server.url}/playlists/{playlist.id}/")
    page.get_by_role("button", name="Play", exact=True).first.click()
    _playing_after(page, 0.2)
    assert page.evaluate("navigator.mediaSession.metadata.title") == titles[0]
    assert page.evaluate("navigator.mediaSession.playbackState") == "playing"

    page.get_by_role("button", name="Queue").click()
    queue = page.get_by_role("list", name="Queue")
    expect(queue.get_by_role("listitem")).to_have_count(5)
    expect(queue.locator("li[aria-current=true]")).to_contain_text(titles[0])
    queue.get_by_role("button", name=f"Play {titles[2]} from the queue").click()
    expect(page.locator("#player-title")).to_have_text(titles[2])
    expect(page.locator("#player-position")).to_have_text("3 of 5")
    expect(page.locator(f"#playlist-items li[data-track-id='{playlist.items.all()[2].track_id}']")).to_have_class(re.compile("is-playing"))
    queue.get_by_role("button", name=f"Remove {titles[4]} from the queue").click()
    expect(queue.get_by_role("listitem")).to_have_count(4)

    page.keyboard.press("MediaTrackNext")
    expect(page.locator("#player-title")).to_have_text(titles[3])
    _playing_after(page, 0.1)
    assert page.evaluate("navigator.mediaSession.metadata.title") == titles[3]
    page.keyboard.press("MediaTrackPrevious")
    expect(page.locator("#player-title")).to_have_text(titles[2])
    page.keyboard.press("MediaPlayPause")
    page.wait_for_function("() => document.getElementById('player-audio').paused")
    assert page.evaluate("navigator.mediaSession.playbackState") == "paused"
    shot(page, "player_queue", full_page=False)

    # A full reload brings the queue back where it was, paused.
    page.reload()
    expect(page.locator("#player-title")).to_have_text(titles[2])
    expect(page.locator("#player-position")).to_contain_text("3 of 4")
    assert audio_state(page)["paused"]


def test_an_instant_mix_from_a_track_row_plays_at_once_and_can_be_saved(page, live_server, site, listener):
    log_in(page, live_server, "ann")
    row = page.locator("table.catalogue tbody tr", has=page.get_by_role("link", name="Neon", exact=True))
    row.get_by_role("button", name="Instant mix from Neon").click()
    _playing_after(page, 0.2)
    expect(page.locator("#player-title")).to_have_text("Neon")
    page.get_by_role("button", name="Queue").click()
    expect(page.locator("#queue-source")).to_have_text("from Mix of Neon")
    queued = page.get_by_role("list", name="Queue").get_by_role("listitem")
    assert queued.count() >= 3
    why = page.locator("#player-why").inner_text()
    page.get_by_role("button", name="Next track").click()
    expect(page.locator("#player-why")).not_to_have_text(why)  # each mixed track says why it is there
    assert not re.search(r"\d\.\d", page.locator("#player-why").inner_text())

    page.get_by_role("button", name="Save as a playlist").click()
    expect(page.get_by_role("heading", name="Mix of Neon")).to_be_visible()
    saved = Playlist.objects.get(owner=listener)
    assert saved.items.count() == queued.count() and saved.items.first().track_id == site["Neon"].id
    assert not audio_state(page)["paused"], "saving the queue stopped the music"


def test_artist_and_album_pages_with_their_own_instant_mix(page, live_server, site, listener):
    sea = Artist.objects.get(name="Sea Band")
    harbour = Album.objects.get(title="Harbour")
    log_in(page, live_server, "ann")
    page.locator("table.catalogue tbody tr", has=page.get_by_role("link", name="Salt Wind", exact=True)).get_by_role("link", name="Sea Band").click()
    expect(page.get_by_role("heading", name="Sea Band")).to_be_visible()
    expect(page.locator("#artist-tracks tbody tr")).to_have_count(Track.objects.filter(artist=sea).count())
    page.get_by_role("button", name="Instant mix", exact=True).click()
    _playing_after(page, 0.2)
    expect(page.locator("#queue-source")).to_have_text("from Mix of Sea Band")
    page.get_by_role("link", name="Harbour").first.click()
    expect(page.get_by_role("heading", name="Harbour")).to_be_visible()
    expect(page.locator("#album-tracks tbody tr")).to_have_count(harbour.tracks.count())
    page.get_by_role("button", name="Play", exact=True).first.click()
    expect(page.locator("#player-title")).to_have_text(harbour.tracks.order_by("track_number").first().title)
    shot(page, "album")


def test_sortable_columns_and_theme_search_with_a_cut_off(page, live_server, site, listener):
    log_in(page, live_server, "ann")
    titles = lambda: page.locator("table.catalogue tbody tr").evaluate_all("rows => rows.map(r => r.dataset.title)")  # noqa: E731
    page.locator("table.catalogue thead").get_by_role("link", name="Title").click()
    expect(page.locator("th.col-title")).to_have_attribute("aria-sort", "ascending")
    assert titles() == sorted(titles(), key=str.casefold) or titles() == sorted(titles())
    page.locator("table.catalogue thead").get_by_role("link", name="Title").click()
    expect(page.locator("th.col-title")).to_have_attribute("aria-sort", "descending")
    assert titles()[0] == max(titles())
    page.locator("table.catalogue thead").get_by_role("link", name="Length").click()
    expect(page.locator("th.col-length")).to_have_attribute("aria-sort", "ascending")
    lengths = [Track.objects.get(title=t).duration_s for t in titles()]
    assert lengths == sorted(lengths)

    page.goto(f"{live_server.url}/search/themes/?q=asdfghjkl")
    expect(page.locator("#main [role=status]")).to_contain_text("No lyrics are about “asdfghjkl”")
    expect(page.locator("#theme-results")).to_have_count(0)
    page.get_by_role("searchbox", name="What are the songs about?").fill("songs about sailing on the sea")
    page.get_by_role("button", name="Search lyrics").click()
    expect(page.locator("#theme-results tbody tr").first).to_contain_text(re.compile("Salt Wind|Море"))
    page.get_by_role("link", name="Make a playlist about this").click()
    expect(page.get_by_label("Theme")).to_have_value("songs about sailing on the sea")


PAGES = (
    ("catalogue", "/"), ("track", "/tracks/{neon}/"), ("artist", "/artists/{sea}/"), ("album", "/albums/{harbour}/"),
    ("themes", "/search/themes/?q=songs+about+the+sea"), ("builder", "/playlists/new/"), ("playlists", "/playlists/"),
    ("playlist", "/playlists/{playlist}/"), ("map", "/map/?playlist={playlist}"), ("for_you", "/for-you/"), ("tasks", "/tasks/"),
    ("evaluation", "/evaluation/"), ("models", "/models/"), ("tokens", "/account/tokens/"),
)


def test_every_page_at_desk_and_phone_width_without_a_console_error_or_sideways_scrolling(browser, live_server, site, listener):
    playlist = playlist_make(listener, [site["Neon"]], length=5)
    ids = {"neon": site["Neon"].id, "sea": Artist.objects.get(name="Sea Band").id, "harbour": Album.objects.get(title="Harbour").id, "playlist": playlist.id}
    for width, height in ((1440, 900), (390, 844)):
        page = page_new(browser, width=width, height=height)
        log_in(page, live_server, "ann")
        page.goto(f"{live_server.url}/playlists/{playlist.id}/")
        page.get_by_role("button", name="Play", exact=True).first.click()  # the player bar shows on every page
        for name, path in PAGES:
            page.goto(live_server.url + path.format(**ids))
            expect(page.locator("#main h1").first).to_be_visible()
            expect(page.locator("#player")).to_be_visible()
            overflow, wide = overflowing(page)
            assert overflow <= 0, f"{path} is {overflow}px wider than {width} px: {wide}"
            shot(page, f"{name}_{width}")
        assert page.console.errors == [], "JavaScript errors in the console"
        page.context.close()
    login = page_new(browser, width=390, height=844)
    login.goto(f"{live_server.url}/accounts/login/")
    shot(login, "login_390")
    assert login.console.errors == []
    login.context.close()
