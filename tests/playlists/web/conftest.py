"""What the browser tests share: Debian's Chromium driven by Playwright, a page that fails its test on any
console error, a logged-in listener, screenshots, and the tagged library indexed with picture-page data.

The browser tests skip with a message where ``/usr/bin/chromium`` is absent (``.ci/run`` installs it);
Playwright's own browser downloads are never used. pytest-django's ``live_server`` (one per session)
serves the site; each test gets the small tagged library afresh (its embeddings are remembered across
tests, so that costs about a second).
"""
from __future__ import annotations

import json
import os

import pytest

from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, PASSWORD, page_new


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip(f"browser tests need Debian's chromium at {CHROMIUM} (apt-get install chromium); .ci/run installs it")
    # Playwright's sync API runs an event loop in this thread; Django refuses ORM calls from one unless told.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser):
    page = page_new(browser)
    try:
        yield page
    finally:
        page.context.close()
    assert page.console.errors == [], "JavaScript errors in the console"


@pytest.fixture
def listener(transactional_db, django_user_model):
    return django_user_model.objects.create_user("ann", password=PASSWORD)


@pytest.fixture
def site(transactional_db, indexed, settings, tmp_path):
    """The tagged library indexed, an evaluation report and a training curve for the picture pages."""
    settings.CROSSFADE_EVALUATION_REPORT = tmp_path / "evaluation"
    settings.CROSSFADE_EVALUATION_REPORT.mkdir()
    (settings.CROSSFADE_EVALUATION_REPORT / "report.json").write_text(json.dumps({
        "ks": [5, 10], "created": "2026-01-01T00:00:00Z", "counts": {"tracks": 6, "labels": 3, "groups": 4},
        "methods": {"hybrid:weighted-0.50": {"p@5": 0.52, "p@10": 0.47, "n": 6}, "audio:mfcc-stats": {"p@5": 0.41, "p@10": 0.38, "n": 6}, "baseline:random": {"p@5": 0.22, "p@10": 0.2, "n": 6}},
    }))
    settings.CROSSFADE_MODELS_DIR = tmp_path / "models"
    run = settings.CROSSFADE_MODELS_DIR / "audio" / "v1"
    run.mkdir(parents=True)
    run.joinpath("training.csv").write_text("epoch,train_loss,val_loss\n" + "".join(f"{e},{1.2 * 0.8 ** e:.4f},{1.3 * 0.85 ** e + 0.05:.4f}\n" for e in range(1, 16)))
    return indexed


