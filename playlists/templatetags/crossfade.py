"""Template filters for showing tracks."""
from __future__ import annotations

import re

from django import template
from django.template import Context

from ml.text.language import language_label as text_language_label
from playlists.models import Track
from playlists.taste.selectors import ratings_of

register = template.Library()

_LRC_TIMESTAMP = re.compile(r"[\[<]\d{1,3}:\d{1,2}(?:[.:]\d{1,3})?[\]>]")
_LRC_METADATA = re.compile(r"^\s*\[[a-z#]+\s*:[^\]]*\]\s*$", re.IGNORECASE)


@register.filter
def lyrics_display(text: str) -> str:
    """Lyrics as a reader wants them: without LRC timestamps and metadata lines."""
    lines = [_LRC_TIMESTAMP.sub("", line).strip() for line in (text or "").splitlines() if not _LRC_METADATA.match(line)]
    return "\n".join(lines).strip()


@register.filter
def duration(seconds: float | None) -> str:
    if not seconds:
        return "–"
    minutes, rest = divmod(int(round(seconds)), 60)
    return f"{minutes}:{rest:02d}"


@register.filter
def percent(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.0f}%"


@register.filter
def language_label(code: str | None) -> str:
    """A stored language code for people: "instrumental" for zxx, "unknown" for und."""
    return text_language_label(code or "")


@register.simple_tag(takes_context=True)
def rating_of(context: Context, track: Track) -> int:
    """The signed-in user's rating of ``track`` (1, -1 or 0), read once per request for every track."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if request is None or user is None or not user.is_authenticated:
        return 0
    ratings: dict[int, int] | None = getattr(request, "_crossfade_ratings", None)
    if ratings is None:
        ratings = ratings_of(user=user)
        request._crossfade_ratings = ratings
    return ratings.get(track.id, 0)
