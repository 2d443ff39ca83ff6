"""What the audio tags of a track say in plain terms (kept free of torch so the site can import it cheaply)."""
from __future__ import annotations

_VOCAL_TAGS = ("vocal", "vocals", "singing", "voice", "male vocal", "female vocal", "male voice", "female voice", "choir", "choral", "opera", "male", "female", "man", "woman")
_NO_VOCAL_TAGS = ("no vocals", "no vocal", "no voice")


def vocals_score(tags: dict[str, float]) -> float | None:
    """How sure the MTT tagger is that a track is sung, in [0, 1]; None without MTT tags.

    MagnaTagATune annotators spread one idea over many tags (``vocal``,
    ``male vocal``, ``singing``...; ``no vocals``, ``no voice``...), so the
    strongest tag on each side is compared: ``v / (v + n)``.
    """
    sung = max((tags.get(tag, 0.0) for tag in _VOCAL_TAGS), default=0.0)
    unsung = max((tags.get(tag, 0.0) for tag in _NO_VOCAL_TAGS), default=0.0)
    if not any(tag in tags for tag in (*_VOCAL_TAGS, *_NO_VOCAL_TAGS)) or sung + unsung <= 0:
        return None
    return round(float(sung / (sung + unsung)), 4)
