"""Lyrics cleaning: keep the words, drop what is not sung.

Drops LRC metadata and timestamps, section tags (``[Chorus]``, ``(Verse 2)``),
credit lines and repeat markers (``x2``), blank lines, and caps how often the
same line may appear so a chorus sung eight times does not drown the verses.
"""
from __future__ import annotations

import re
import unicodedata

_LRC_METADATA = re.compile(r"^\s*\[(ar|ti|al|au|by|re|ve|length|offset|la|lang|id|#)\s*:[^\]]*\]\s*$", re.IGNORECASE)
_LRC_TIMESTAMP = re.compile(r"\[\d{1,3}:\d{1,2}(?:[.:]\d{1,3})?\]")
_LRC_WORD_TIMESTAMP = re.compile(r"<\d{1,3}:\d{1,2}(?:[.:]\d{1,3})?>")
_SECTION_WORDS = (
    r"verse|chorus|pre-?chorus|post-?chorus|refrain|bridge|hook|intro|outro|interlude|instrumental|solo|"
    r"breakdown|coda|drop|build-?up|spoken|куплет|припев|бридж|проигрыш|вступление|кода|couplet|refrain|"
    r"strophe|estribillo|verso|puente|ritornello|strofa"
)
_SECTION_TAG = re.compile(rf"^\s*[\[(]\s*(?:{_SECTION_WORDS})\b[^\])]*[\])]\s*:?\s*$", re.IGNORECASE)
_SECTION_LABEL = re.compile(rf"^\s*(?:{_SECTION_WORDS})(?:\s*\d+)?\s*:?\s*$", re.IGNORECASE)
_ANY_BRACKET_LINE = re.compile(r"^\s*\[[^\]]*\]\s*$")
# Credit labels ("Words & music:", "Paroles et musique :", "Letra y música:", "Text und Musik:") in the catalogue's languages.
_CREDIT_WORD = r"(?:слова|музыка|автор|аранжировка|lyrics|words|music|paroles|musique|letra|música|musica|texte?|musik|testo|arrangement)"
_CREDIT = re.compile(
    r"^\s*(?:written|lyrics|words|music|composed|produced|arranged|performed|translated|transcribed)\s+by\b"
    r"|^\s*(?:songwriters?|composers?|producers?|lyricists?|copyright|©|\(c\)|all rights reserved)\b"
    rf"|^\s*{_CREDIT_WORD}(?:\s*(?:&|,|/|и|et|y|und|e|and)\s*{_CREDIT_WORD})*\s*[:\-–—]"
    r"|^\s*(?:paroles|musique|letra|música|text|musik|testo|musica)\s+(?:de|von|di|by)\s"
    r"|\d*\s*embed\s*$",
    re.IGNORECASE,
)
_REPEAT_MARKER = re.compile(r"\s*[\[(]?\s*(?:x\s*\d+|\d+\s*x|×\s*\d+|\d+\s*×)\s*[\])]?\s*$", re.IGNORECASE)
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200b]+")
_WORD = re.compile(r"\w+", re.UNICODE)


def lyrics_clean(text: str, *, max_repeats: int = 2) -> str:
    """Sung words of ``text``, one line per sung line.

    A line that occurs more than ``max_repeats`` times (compared
    case-insensitively, ignoring punctuation) keeps only its first
    ``max_repeats`` occurrences; immediate repeats collapse to one.
    """
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff"))
    seen: dict[str, int] = {}
    kept: list[str] = []
    previous_key = None
    for raw in text.split("\n"):
        if _LRC_METADATA.match(raw):
            continue
        line = _LRC_WORD_TIMESTAMP.sub("", _LRC_TIMESTAMP.sub("", raw))
        line = _SPACES.sub(" ", line).strip()
        if not line or _SECTION_TAG.match(line) or _SECTION_LABEL.match(line) or _ANY_BRACKET_LINE.match(line):
            continue
        if _CREDIT.search(line):
            continue
        line = _REPEAT_MARKER.sub("", line).strip()
        key = " ".join(_WORD.findall(line.casefold()))
        if not key:
            continue
        if key == previous_key:
            continue
        previous_key = key
        seen[key] = seen.get(key, 0) + 1
        if seen[key] > max_repeats:
            continue
        kept.append(line)
    return "\n".join(kept)


def lyrics_word_count(text: str) -> int:
    """Number of words in ``text`` (letters or digits, any script)."""
    return len(_WORD.findall(text))
