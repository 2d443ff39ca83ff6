"""Reading lyrics files (``.lrc``, ``.txt``) in whatever encoding people saved them.

UTF-8 with or without a byte-order mark, UTF-16/32 with a BOM (or without one
when the NUL pattern gives it away), and the Windows code pages of the
catalogue's languages: cp1251 for Russian, cp1252 for Western Europe, and
KOI8-R, the older Russian encoding, told apart from cp1251 by letter frequencies.
Anything else is rejected with a message rather than read as mojibake.
"""
from __future__ import annotations

import codecs
import re
from pathlib import Path

from ml.errors import LyricsError

_MAX_LYRICS_BYTES = 1_000_000
_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_LATIN_EXTENDED = re.compile(r"[\u00c0-\u024f]")
# The most frequent Russian letters: about half of the letters of any Russian text.
_FREQUENT_RUSSIAN = frozenset("оеаинтсрвл")
_MIXED_WORD = re.compile(r"\b(?=\w*[a-zA-Z])(?=\w*[\u0400-\u04ff])\w+\b")


def lyrics_decode(data: bytes, *, source: str = "lyrics") -> tuple[str, str]:
    """Decode lyrics bytes; returns ``(text, encoding_used)``.

    Raises :class:`LyricsError` naming ``source`` when the bytes are not text
    in any encoding Crossfade reads.
    """
    if len(data) > _MAX_LYRICS_BYTES:
        raise LyricsError(f"{source}: {len(data)} bytes is too large to be lyrics")
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return _strict(data, encoding, source), encoding
    bomless_utf16 = _utf16_without_bom(data)
    if bomless_utf16:
        return _strict(data, bomless_utf16, source), bomless_utf16
    try:
        return _check_text(data.decode("utf-8"), source), "utf-8"
    except UnicodeDecodeError:
        pass
    as_cyrillic = data.decode("cp1251", errors="replace")
    as_western = data.decode("cp1252", errors="replace")
    cyrillic_letters = len(_CYRILLIC.findall(as_cyrillic))
    western_letters = len(_LATIN_EXTENDED.findall(as_western))
    # Russian in cp1251 read as cp1252 becomes runs of accented Latin letters, and
    # Western text read as cp1251 puts Cyrillic letters inside Latin words.
    if cyrillic_letters and len(_MIXED_WORD.findall(as_cyrillic)) * 4 < cyrillic_letters and "\ufffd" not in as_cyrillic:
        as_koi8 = data.decode("koi8-r", errors="replace")
        if "\ufffd" not in as_koi8 and _russian_score(as_koi8) > _russian_score(as_cyrillic):
            return _check_text(as_koi8, source), "koi8-r"
        return _check_text(as_cyrillic, source), "cp1251"
    if western_letters or "\ufffd" not in as_western:
        return _check_text(data.decode("cp1252", errors="replace"), source), "cp1252"
    raise LyricsError(f"{source}: not text in UTF-8, UTF-16, cp1251 or cp1252")


def _russian_score(text: str) -> float:
    """Share of the frequent Russian letters among the Cyrillic letters of ``text`` (case-insensitive).

    About 0.5 for Russian read in the right code page, far less for the wrong one.
    """
    letters = _CYRILLIC.findall(text.lower())
    return sum(letter in _FREQUENT_RUSSIAN for letter in letters) / len(letters) if letters else 0.0


def _utf16_without_bom(data: bytes) -> str | None:
    """"utf-16-le"/"utf-16-be" when the bytes look like UTF-16 text without a BOM.

    In UTF-16 text of one script, every other byte (the high byte) takes only
    a couple of values: 0 for ASCII spaces and punctuation, 4 for Cyrillic...
    """
    if len(data) < 8 or len(data) % 2:
        return None
    for encoding, high in (("utf-16-le", data[1::2]), ("utf-16-be", data[0::2])):
        counts = sorted((high.count(value) for value in set(high)), reverse=True)
        if high.count(0) >= len(high) // 10 and sum(counts[:2]) >= 0.95 * len(high):
            return encoding
    return None


def lyrics_file_read(path: str | Path) -> tuple[str, str]:
    """Read a ``.lrc`` or ``.txt`` lyrics file; returns ``(text, encoding_used)``."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as error:
        raise LyricsError(f"{path}: cannot read ({error.strerror or error})") from None
    return lyrics_decode(data, source=str(path))


def _strict(data: bytes, encoding: str, source: str) -> str:
    try:
        return _check_text(data.decode(encoding), source)
    except UnicodeDecodeError as error:
        raise LyricsError(f"{source}: invalid {encoding} text ({error.reason} at byte {error.start})") from None


def _check_text(text: str, source: str) -> str:
    text = text.lstrip("\ufeff")
    controls = sum(1 for char in text if ord(char) < 32 and char not in "\n\r\t")
    if controls > max(2, len(text) // 100):
        raise LyricsError(f"{source}: looks like binary data, not lyrics text")
    return text
