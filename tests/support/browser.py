"""Helpers of the browser tests (tests/playlists/web/test_browser*.py): a console that records errors,
pages, screenshots, logging in, overflow checks, playlists made as the builder makes them, the player's audio."""
from __future__ import annotations

from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
PASSWORD = "a-long-password-7"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--autoplay-policy=no-user-gesture-required",
]


class Console:
    """Every console error and uncaught exception of a page."""

    def __init__(self, page) -> None:
        self.errors: list[str] = []
        page.on("console", lambda message: self.errors.append(f"console: {message.text} at {message.location}") if message.type == "error" else None)
        page.on("pageerror", lambda error: self.errors.append(f"uncaught: {error}"))


def page_new(browser, *, width: int = 1280, height: int = 900):
    context = browser.new_context(viewport={"width": width, "height": height}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.console = Console(page)
    return page


def shot(page, name: str, *, full_page: bool = True) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=full_page)


def log_in(page, live_server, username: str) -> None:
    from playwright.sync_api import expect

    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Catalogue")).to_be_visible()


def overflowing(page) -> tuple[int, list[str]]:
    """How far the page is wider than the window, and the first elements that stick out."""
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    wide = page.evaluate(
        """() => Array.from(document.querySelectorAll('body *')).filter(e => { const b = e.getBoundingClientRect(); return b.width && b.right > window.innerWidth + 1; })
        .slice(0, 5).map(e => e.tagName + '.' + e.className + '#' + (e.name || e.id || ''))"""
    )
    return overflow, wide


def playlist_make(owner, tracks, *, order: str = "flow", length: int | None = None, **more):
    """A saved playlist from seed tracks, made the way the builder makes one."""
    from playlists.generation.services import playlist_generate
    from playlists.generation.settings import PlaylistSettings

    return playlist_generate(owner=owner, settings=PlaylistSettings(seed_ids=[t.id for t in tracks], length=length or 6, order=order, **more))


def audio_state(page) -> dict:
    return page.evaluate("() => { const a = document.getElementById('player-audio'); return {paused: a.paused, time: a.currentTime, src: a.getAttribute('src') || ''}; }")
