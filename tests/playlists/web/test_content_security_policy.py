"""A strict Content-Security-Policy: scripts only from the site's static files, so no template may carry inline script.

The browser tests (test_browser.py) fail on any console error, so a violation
of the policy shows there too; this checks the header and every template.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

TEMPLATES = Path(settings.BASE_DIR) / "playlists" / "web" / "templates"


def test_pages_carry_the_policy(client, db):
    policy = client.get(reverse("login"))["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["script-src"] == "'self'" and "unsafe-inline" not in directives["script-src"]
    assert directives["default-src"] == "'self'" and directives["object-src"] == "'none'" and directives["frame-ancestors"] == "'none'"
    assert "https://accounts.spotify.com" in directives["form-action"], "Save to Spotify sends the browser there"


@pytest.mark.parametrize("template", sorted(TEMPLATES.rglob("*.html")), ids=lambda p: str(p.relative_to(TEMPLATES)))
def test_no_template_has_inline_script(template):
    text = template.read_text()
    handlers = re.findall(r"\son[a-z]+\s*=", text)
    inline_scripts = [tag for tag in re.findall(r"<script\b[^>]*>", text) if "src=" not in tag]
    assert handlers == [] and inline_scripts == [] and "javascript:" not in text
