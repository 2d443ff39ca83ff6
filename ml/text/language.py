"""Which language lyrics are written in, offline (``langdetect``, a port of
Google's language-detection: character n-gram profiles of 55 languages).

The answer is an ISO 639-1 code ("en", "ru", "fr"...), or one of two ISO 639-2
codes that say why there is none:

- ``"zxx"`` (no linguistic content): too few words to mean anything; the
  track is instrumental as far as lyrics go.
- ``"und"`` (undetermined): enough words, but the detector is unsure (mixed
  languages, a language it does not know) or they are a handful of syllables
  sung over and over ("la la la").

langdetect is randomised; it is seeded on every call, so the same text always
gets the same answer.
"""
from __future__ import annotations

import logging
import re
import threading

from ml.errors import LyricsError
from ml.text.clean import lyrics_word_count

logger = logging.getLogger(__name__)

INSTRUMENTAL = "zxx"
UNDETERMINED = "und"
#: Characters read: a few verses settle the language, and detection time grows with length.
_MAX_CHARS = 3000
_SEED = 0
_WORD = re.compile(r"\w+", re.UNICODE)
_lock = threading.Lock()


def language_detect(text: str, *, min_words: int = 8, min_probability: float = 0.80) -> str:
    """Language code of cleaned lyrics ``text``, :data:`INSTRUMENTAL` or :data:`UNDETERMINED`.

    ``min_words`` is the same threshold under which reindex treats lyrics as
    instrumental; ``min_probability`` is how sure the detector must be.
    """
    if lyrics_word_count(text) < min_words:
        return INSTRUMENTAL
    if len(set(_WORD.findall(text.casefold()))) < max(4, min_words // 2):
        # "la la la, na na na": vocalise; n-gram statistics of three syllables name a random language.
        return UNDETERMINED
    try:
        from langdetect import DetectorFactory, detect_langs
        from langdetect.lang_detect_exception import LangDetectException
    except ImportError:
        raise LyricsError("language detection needs the PyPI package langdetect; install the requirements") from None
    with _lock:
        # The seed is read whenever a detector is created; the lock keeps it ours.
        DetectorFactory.seed = _SEED
        try:
            candidates = detect_langs(text[:_MAX_CHARS])
        except LangDetectException as error:
            logger.debug("language undetermined: %s", error)
            return UNDETERMINED
    if not candidates or candidates[0].prob < min_probability:
        return UNDETERMINED
    return str(candidates[0].lang).lower()


def language_label(code: str) -> str:
    """What to show for a stored language code: the code, or words for the two special ones."""
    return {INSTRUMENTAL: "instrumental", UNDETERMINED: "unknown", "": "–"}.get(code, code)
