"""Playlists as files other players read: M3U8, XSPF and JSON.

M3U8 paths are relative to the music folder (``settings.CROSSFADE_MUSIC_DIR``)
when the file lies below it, so the playlist works when saved in that folder
and keeps working if the whole folder moves; files elsewhere keep their
absolute path. XSPF locations are URIs: relative ones for files under the
music folder (resolved against the playlist's own location, which is the
music folder), ``file://`` URIs otherwise.
"""
from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import quote
from xml.etree import ElementTree

from django.conf import settings
from django.db.models import QuerySet

from playlists.models import Playlist, PlaylistItem

FORMATS = {"m3u8": "audio/x-mpegurl; charset=utf-8", "xspf": "application/xspf+xml; charset=utf-8", "json": "application/json; charset=utf-8"}
XSPF_NS = "http://xspf.org/ns/0/"


def _music_dir() -> Path:
    return Path(settings.CROSSFADE_MUSIC_DIR).expanduser().resolve()


def export_path(audio_path: str) -> str:
    """``audio_path`` relative to the music folder (POSIX separators) when below it, else absolute."""
    path = Path(audio_path)
    try:
        return path.resolve().relative_to(_music_dir()).as_posix()
    except ValueError:
        return str(path)


def _items(playlist: Playlist) -> QuerySet[PlaylistItem]:
    return playlist.items.select_related("track__artist", "track__album").order_by("position")


def playlist_m3u8(playlist: Playlist) -> str:
    """Extended M3U in UTF-8: ``#EXTINF:seconds,Artist - Title`` then the path, one per track with a file."""
    lines = ["#EXTM3U", f"#PLAYLIST:{_one_line(playlist.name)}"]
    for item in _items(playlist):
        track = item.track
        if not track.audio_path:
            continue
        seconds = int(round(track.duration_s)) if track.duration_s else -1
        artist = f"{track.artist.name} - " if track.artist else ""
        lines.append(f"#EXTINF:{seconds},{_one_line(artist + track.title)}")
        lines.append(export_path(track.audio_path))
    return "\n".join(lines) + "\n"


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _location(audio_path: str) -> str:
    relative = export_path(audio_path)
    if not Path(relative).is_absolute():
        return quote(relative)
    return Path(relative).resolve().as_uri()


def playlist_xspf(playlist: Playlist) -> str:
    """XSPF version 1 (https://xspf.org/spec): title, then one ``<track>`` with location, title, creator, album, duration (ms)."""
    ElementTree.register_namespace("", XSPF_NS)
    root = ElementTree.Element(f"{{{XSPF_NS}}}playlist", {"version": "1"})
    ElementTree.SubElement(root, f"{{{XSPF_NS}}}title").text = playlist.name
    ElementTree.SubElement(root, f"{{{XSPF_NS}}}creator").text = "Crossfade"
    track_list = ElementTree.SubElement(root, f"{{{XSPF_NS}}}trackList")
    for item in _items(playlist):
        track = item.track
        if not track.audio_path:
            continue
        node = ElementTree.SubElement(track_list, f"{{{XSPF_NS}}}track")
        ElementTree.SubElement(node, f"{{{XSPF_NS}}}location").text = _location(track.audio_path)
        ElementTree.SubElement(node, f"{{{XSPF_NS}}}title").text = track.title
        if track.artist:
            ElementTree.SubElement(node, f"{{{XSPF_NS}}}creator").text = track.artist.name
        if track.album:
            ElementTree.SubElement(node, f"{{{XSPF_NS}}}album").text = track.album.title
        if track.duration_s:
            ElementTree.SubElement(node, f"{{{XSPF_NS}}}duration").text = str(int(round(track.duration_s * 1000)))
        if item.explanation.get("why"):
            ElementTree.SubElement(node, f"{{{XSPF_NS}}}annotation").text = item.explanation["why"]
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ElementTree.tostring(root, encoding="unicode") + "\n"


def playlist_json(playlist: Playlist) -> str:
    """Everything about the playlist: name, settings, and per track its metadata, path, score and explanation."""
    data = {
        "name": playlist.name,
        "created_at": playlist.created_at.isoformat(),
        "index_version": playlist.index_version,
        "settings": {k: v for k, v in (playlist.settings or {}).items() if k != "seed_audio"}
        | {"seed_audio": [a.get("name") for a in (playlist.settings or {}).get("seed_audio", [])]},
        "tracks": [
            {
                "position": item.position,
                "id": item.track.id,
                "title": item.track.title,
                "artist": item.track.artist.name if item.track.artist else None,
                "album": item.track.album.title if item.track.album else None,
                "duration_ms": int(item.track.duration_s * 1000) if item.track.duration_s else None,
                "path": export_path(item.track.audio_path) if item.track.audio_path else None,
                "isrc": item.track.isrc or None,
                "score": item.score,
                "is_seed": item.is_seed,
                "explanation": item.explanation,
            }
            for item in _items(playlist)
        ],
    }
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def playlist_export(playlist: Playlist, *, fmt: str) -> tuple[str, str, str]:
    """``(text, content type, file name)`` of ``playlist`` in ``fmt`` (one of m3u8, xspf, json)."""
    writers = {"m3u8": playlist_m3u8, "xspf": playlist_xspf, "json": playlist_json}
    if fmt not in writers:
        raise ValueError(f"unknown export format {fmt!r}; choose one of {', '.join(writers)}")
    safe = "".join(c if c.isalnum() or c in " -_" else "_" for c in playlist.name).strip() or "playlist"
    return writers[fmt](playlist), FORMATS[fmt], f"{safe}.{fmt}"
