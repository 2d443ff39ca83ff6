"""Lyrics: ``getLyrics`` (by artist and title, plain text) and ``getLyricsBySongId`` (the ``songLyrics`` extension: lines, synced where an ``.lrc`` gave times)."""
from __future__ import annotations

from ml.text.lrc import lyrics_timed
from playlists.catalogue.browse import playable_tracks
from playlists.subsonic.browsing import track_or_fail
from playlists.subsonic.endpoints import Call, Payload, endpoint

#: Languages that are not a language of the words: players treat "xxx" as "not specified".
_NO_LANGUAGE = {"", "zxx", "und"}


@endpoint("getLyrics")
def lyrics(call: Call) -> Payload:
    artist, title = call.params.text("artist").strip(), call.params.text("title").strip()
    tracks = playable_tracks().exclude(lyrics="")
    found = None
    if title:
        exact = tracks.filter(title__iexact=title)
        if artist:
            exact = exact.filter(artist__name__iexact=artist)
        found = exact.first() or (tracks.filter(title__icontains=title, artist__name__icontains=artist).first() if artist else tracks.filter(title__icontains=title).first())
    if found is None:
        return {"lyrics": {"artist": artist or None, "title": title or None, "value": ""}}
    return {"lyrics": {"artist": found.artist.name if found.artist else None, "title": found.title, "value": "\n".join(text for _, text in lyrics_timed(found.lyrics).lines)}}


@endpoint("getLyricsBySongId")
def lyrics_by_song(call: Call) -> Payload:
    track = track_or_fail(call.params.required("id"))
    if not track.lyrics.strip():
        return {"lyricsList": {"structuredLyrics": []}}
    timed = lyrics_timed(track.lyrics)
    lines = [{"start": start, "value": text} if start is not None else {"value": text} for start, text in timed.lines]
    entry: Payload = {
        "displayArtist": track.artist.name if track.artist else None,
        "displayTitle": track.title,
        "lang": "xxx" if track.language in _NO_LANGUAGE else track.language,
        "synced": timed.synced,
        "line": lines,
    }
    if timed.offset_ms:
        entry["offset"] = timed.offset_ms
    return {"lyricsList": {"structuredLyrics": [entry]}}
