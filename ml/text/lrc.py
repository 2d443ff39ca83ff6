"""Lyrics as timed lines: LRC (``[mm:ss.xx]text``, several stamps per line, ``[offset:±ms]``) or plain text.

What a player's synced-lyrics view needs; the text kept is the line as
written (section tags and repeats included), unlike :func:`ml.text.clean.lyrics_clean`,
which prepares lyrics for the encoder.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

_STAMP = re.compile(r"\[(\d{1,3}):(\d{1,2})(?:[.:](\d{1,3}))?\]")
_WORD_STAMP = re.compile(r"<\d{1,3}:\d{1,2}(?:[.:]\d{1,3})?>")
_METADATA = re.compile(r"^\s*\[([a-z#]+)\s*:([^\]]*)\]\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class TimedLyrics:
    """``lines`` are ``(start in ms or None, text)``; ``synced`` when every line has a start (sorted by it)."""

    lines: list[tuple[int | None, str]]
    synced: bool
    offset_ms: int = 0


def _milliseconds(minutes: str, seconds: str, fraction: str | None) -> int:
    part = fraction or "0"
    # ".5" is half a second, ".05" five hundredths, ".005" five thousandths.
    millis = int(part) * 10 ** (3 - len(part))
    return (int(minutes) * 60 + int(seconds)) * 1000 + millis


def lyrics_timed(text: str) -> TimedLyrics:
    """The lines of ``text`` with their LRC start times; plain lyrics give unsynced lines (blank lines dropped)."""
    timed: list[tuple[int, str]] = []
    plain: list[str] = []
    offset = 0
    for raw in (text or "").splitlines():
        metadata = _METADATA.match(raw)
        if metadata and not _STAMP.match(raw):
            if metadata.group(1).lower() == "offset":
                try:
                    offset = int(metadata.group(2).strip())
                except ValueError:
                    pass
            continue
        stamps = list(_STAMP.finditer(raw))
        if stamps:
            words = _WORD_STAMP.sub("", raw[stamps[-1].end() :]).strip()
            for stamp in stamps:
                timed.append((_milliseconds(*stamp.groups()), words))
        elif raw.strip():
            plain.append(raw.strip())
    if timed and len(timed) >= len(plain):
        timed.sort(key=lambda line: line[0])
        return TimedLyrics([(start, words) for start, words in timed], True, offset)
    return TimedLyrics([(None, line) for line in plain], False, 0)
