"""Template filters for showing tracks."""
from __future__ import annotations

import re

from django import template
from django.http import QueryDict
from django.template import Context

from ml.text.language import language_label as text_language_label
from playlists.generation.explain import explanation_text
from playlists.models import Album, Track
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


#: Placeholder cover colours (``.cover-hue-0`` … in site.css).
COVER_HUES = 12


def cover_key_hue(key: str) -> int:
    """A stable colour number for a name; site.js computes the same for the player's queue."""
    value = 0
    for character in key:
        value = (value * 31 + ord(character)) & 0xFFFFFFFF
    return value % COVER_HUES


def name_initials(text: str) -> str:
    """Up to two initials of a name: "Letters in the Rain" -> "LR" (little words skipped when there are others)."""
    words = [w for w in re.findall(r"\w+", text or "") if not w.isdigit()]
    big = [w for w in words if len(w) > 3] or words
    return "".join(w[0] for w in big[:2]).upper() or "♪"


@register.simple_tag
def cover_placeholder(track: Track | None = None, album: Album | None = None) -> dict[str, object]:
    """The placeholder cover of an album or a track (its album, else its artist, else its title): ``{"hue", "initials"}``.

    Either may be missing from the template's context (then it arrives as "").
    """
    track = track if isinstance(track, Track) else None
    album = album if isinstance(album, Album) else None
    if album is None and track is not None:
        album = track.album
    if album is not None:
        key = album.title
    elif track is not None:
        key = track.artist.name if track.artist else track.title
    else:
        key = ""
    return {"hue": cover_key_hue(key), "initials": name_initials(key)}


@register.filter
def why(explanation: dict[str, object] | None) -> str:
    """An item's explanation in words, made again from its numbers (so playlists saved before the wording changed read the same)."""
    if not isinstance(explanation, dict) or not explanation:
        return ""
    return explanation_text(dict(explanation))


@register.simple_tag(takes_context=True)
def sort_link(context: Context, column: str) -> str:
    """The query string that sorts the catalogue by ``column`` (descending when it is already ascending), other filters kept."""
    request = context.get("request")
    query = request.GET.copy() if request is not None else QueryDict(mutable=True)
    current = query.get("sort", "")
    query["sort"] = f"-{column}" if current == column else column
    query.pop("page", None)
    return "?" + query.urlencode()


@register.simple_tag(takes_context=True)
def sort_state(context: Context, column: str) -> str:
    """``aria-sort`` of a column header: ascending, descending or none."""
    request = context.get("request")
    current = request.GET.get("sort", "") if request is not None else ""
    return "ascending" if current == column else "descending" if current == f"-{column}" else "none"
