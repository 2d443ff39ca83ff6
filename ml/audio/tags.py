"""The taggers' vocabularies and what a track's audio tags say in plain terms (kept free of torch so the site can import it cheaply).

A track's tags are stored as ``{"<vocabulary>:<tag>": probability}``:
``mtt:`` for the MagnaTagATune taggers (instruments, moods, vocals),
``msd:`` for the Million Song Dataset ones (genres, eras, moods).
"""
from __future__ import annotations

from typing import Mapping

#: The 50 MagnaTagATune tags of ``MTT_musicnn`` and ``MTT_vgg``, in output order.
MTT_TAGS: tuple[str, ...] = (
    "guitar", "classical", "slow", "techno", "strings", "drums", "electronic", "rock", "fast", "piano",
    "ambient", "beat", "violin", "vocal", "synth", "female", "indian", "opera", "male", "singing",
    "vocals", "no vocals", "harpsichord", "loud", "quiet", "flute", "woman", "male vocal", "no vocal", "pop",
    "soft", "sitar", "solo", "man", "classic", "choir", "voice", "new age", "dance", "male voice",
    "female vocal", "beats", "harp", "cello", "no voice", "weird", "country", "metal", "female voice", "choral",
)  # fmt: skip
#: The Million Song Dataset tags of ``MSD_musicnn`` and ``MSD_vgg``, in output order (as the package spells them).
MSD_TAGS: tuple[str, ...] = (
    "rock", "pop", "alternative", "indie", "electronic", "female vocalists", "dance", "00s", "alternative rock", "jazz",
    "beautiful", "metal", "chillout", "male vocalists", "classic rock", "soul", "indie rock", "Mellow", "electronica", "80s",
    "folk", "90s", "chill", "instrumental", "punk", "oldies", "blues", "hard rock", "ambient", "acoustic",
    "experimental", "female vocalist", "guitar", "Hip-Hop", "70s", "party", "country", "easy listening", "sexy", "catchy",
    "funk", "electro", "heavy metal", "Progressive rock", "60s", "rnb", "indie pop", "sad", "House", "happy",
)  # fmt: skip

#: Vocabulary prefixes and the data sets their taggers learned from.
VOCABULARY_NAMES: dict[str, str] = {"mtt": "MagnaTagATune", "msd": "Million Song Dataset"}


def tag_label(key: str) -> str:
    """What a person reads for a tag key: ``"mtt:male vocal"`` -> ``"male vocal"``, ``"msd:Hip-Hop"`` -> ``"hip-hop"``."""
    return (key.partition(":")[2] if ":" in key else key).lower()


def tag_vocabulary(key: str) -> str:
    """The vocabulary prefix of a tag key (``"mtt"``), or ``""`` for a key without one."""
    return key.partition(":")[0] if ":" in key else ""


def tags_ranked(tags: Mapping[str, float], *, vocabulary: str | None = None, limit: int = 5, threshold: float = 0.2) -> list[str]:
    """Keys of the tags a tagger is fairly sure of (probability at least ``threshold``), most likely first.

    The single most likely tag is kept even below the threshold. ``vocabulary``
    keeps one vocabulary's keys only.
    """
    ranked = sorted(((k, float(p)) for k, p in tags.items() if vocabulary is None or tag_vocabulary(k) == vocabulary), key=lambda item: -item[1])
    return [key for rank, (key, p) in enumerate(ranked[:limit]) if p >= threshold or rank == 0]


#: Tags that say a voice sings, and tags that say none does, in both vocabularies.
_VOCAL_TAGS = tuple(f"mtt:{tag}" for tag in ("vocal", "vocals", "singing", "voice", "male vocal", "female vocal", "male voice", "female voice", "choir", "choral", "opera", "male", "female", "man", "woman")) + (
    "msd:female vocalists", "msd:male vocalists", "msd:female vocalist",
)
_NO_VOCAL_TAGS = ("mtt:no vocals", "mtt:no vocal", "mtt:no voice", "msd:instrumental")


def vocals_score(tags: Mapping[str, float]) -> float | None:
    """How sure the taggers are that a track is sung, in [0, 1]; None without vocal tags.

    Annotators spread one idea over many tags (``mtt:vocal``,
    ``mtt:male vocal``, ``msd:female vocalists``...; ``mtt:no vocals``,
    ``msd:instrumental``...), so the strongest tag on each side is compared:
    ``v / (v + n)``.
    """
    sung = max((tags.get(tag, 0.0) for tag in _VOCAL_TAGS), default=0.0)
    unsung = max((tags.get(tag, 0.0) for tag in _NO_VOCAL_TAGS), default=0.0)
    if not any(tag in tags for tag in (*_VOCAL_TAGS, *_NO_VOCAL_TAGS)) or sung + unsung <= 0:
        return None
    return round(float(sung / (sung + unsung)), 4)
