"""Why a track is in a playlist: similarity to the seeds per modality, shared audio tags and lyric words, the prompt, taste.

Each item stores the explanation as JSON (``PlaylistItem.explanation``, the
numbers) and a line a person reads (``why``, in words: "very close in sound ·
similar lyrics: rain, thunder"). The words are made from the numbers by
:func:`explanation_text`, so pages can say them again for playlists saved
before the wording changed.
"""
from __future__ import annotations

import math
import re
from collections import Counter
from functools import lru_cache
from typing import Any

from ml.fusion.hybrid import HybridIndex
from ml.playlist.vectors import mean_modality_scores, modality_scores, rows, vectors_concat, vectors_of
from ml.text.clean import lyrics_clean
from playlists.generation.seeds import Seeds
from playlists.generation.settings import PlaylistSettings
from playlists.models import Track

_STOPWORDS = frozenset(
    """that this with from your have what when where they them then there their will would could should just into
    only over under about been were like every never ever more some than because while again still after before
    тебя меня себя тебе мне нас вас они она оно было будет этот эта это того когда если только всегда снова
    """.split()
)


def lyric_words(text: str) -> Counter[str]:
    """The telling words of a lyric (4+ letters, no stop words) with their counts; a fresh Counter the caller may change."""
    return Counter(_lyric_words(text or ""))


@lru_cache(maxsize=8192)
def _lyric_words(text: str) -> Counter[str]:
    # Cleaning a lyric costs more than the rest of an explanation, and the same tracks come back request after request.
    words = re.findall(r"\w+", lyrics_clean(text).casefold())
    return Counter(w for w in words if len(w) >= 4 and not w.isdigit() and w not in _STOPWORDS)


def top_tags(track: Track, threshold: float = 0.3) -> dict[str, float]:
    tags = getattr(track, "audio_tags", None)
    if not isinstance(tags, dict):
        return {}
    return {str(k): float(v) for k, v in tags.items() if isinstance(v, (int, float)) and v >= threshold}


def explanations(index: HybridIndex, chosen: list[Track], seeds: Seeds, settings: PlaylistSettings, *, taste_of: dict[int, float] | None) -> dict[int, dict[str, Any]]:
    """Per track: audio and lyrics similarity to the seeds, shared audio tags, shared lyric words or prompt match."""
    out: dict[int, dict[str, Any]] = {}
    seed_tracks = seeds.tracks + [t for t in seeds.artist_tracks if t.id not in {s.id for s in seeds.tracks}]
    vectors = vectors_of(index, [t.id for t in chosen])
    audio_rows = [g for g in (seeds.catalogue if rows(seeds.catalogue) else None, seeds.audio) if g is not None]
    audio_sim = mean_modality_scores(vectors, vectors_concat(index, audio_rows), "audio") if audio_rows and "audio" in index.indexes else None
    lyrics_rows = [g for g in (seeds.catalogue if rows(seeds.catalogue) else None, seeds.text) if g is not None]
    lyrics_sim = mean_modality_scores(vectors, vectors_concat(index, lyrics_rows), "lyrics") if lyrics_rows and "lyrics" in index.indexes else None
    prompt_cos = modality_scores(vectors, seeds.text, "lyrics")[:, 0] if seeds.text is not None else None
    seed_tags: Counter[str] = Counter()
    seed_words: Counter[str] = Counter()
    for t in seed_tracks:
        seed_tags.update(top_tags(t))
        seed_words.update(lyric_words(t.lyrics))
    seed_ids = {t.id for t in seeds.tracks}
    prompt_words = lyric_words(settings.seed_text) if settings.seed_text else Counter()
    for row, track in enumerate(chosen):
        info: dict[str, Any] = {}
        if track.id in seed_ids:
            info["seed"] = True
        if audio_sim is not None and not math.isnan(float(audio_sim[row])):
            info["audio"] = round(float(audio_sim[row]), 4)
        if lyrics_sim is not None and not math.isnan(float(lyrics_sim[row])):
            info["lyrics"] = round(float(lyrics_sim[row]), 4)
        tags = top_tags(track)
        shared_tags = sorted((t for t in tags if t in seed_tags), key=lambda t: -tags[t])[:3]
        if shared_tags:
            info["tags"] = shared_tags
        if track.id not in seed_ids:
            words = lyric_words(track.lyrics)
            shared_words = [w for w, _ in sorted(((w, n) for w, n in words.items() if w in seed_words), key=lambda x: (-x[1], x[0]))[:3]]
            if shared_words:
                info["words"] = shared_words
            on_theme = sorted((w for w in words if w in prompt_words), key=lambda w: (-words[w], w))[:3]
            if on_theme:
                info["theme"] = on_theme
        if prompt_cos is not None and not math.isnan(float(prompt_cos[row])):
            info["prompt"] = {"text": settings.seed_text, "similarity": round(float(prompt_cos[row]), 4)}
        if taste_of is not None and track.id in taste_of:
            info["taste"] = round(float(taste_of[track.id]), 4)
        info["why"] = explanation_text(info)
        out[track.id] = info
    return out


#: Cosine similarities of the standardised vectors that earn each word. On the demo catalogue the
#: audio similarity of a pair of tracks has its 90th percentile at 0.74 and its 95th at 0.84, the
#: lyrics similarity its 90th at 0.21 and its 95th at 0.33: "very close" is the top few per cent.
SOUND_WORDS = ((0.8, "very close in sound"), (0.6, "close in sound"), (0.35, "a similar sound"))
LYRICS_WORDS = ((0.35, "very similar lyrics"), (0.2, "similar lyrics"))
PROMPT_WORDS = ((0.2, "closely"), (0.1, "loosely"))
#: What a path's own tracks are (their stored ``why`` names the role).
SEED_WORDS = {"start": "where the path starts", "waypoint": "a waypoint you chose", "destination": "where the path ends"}
#: Taste probabilities that earn a word (between them the taste says nothing either way).
TASTE_LIKELY, TASTE_UNLIKELY = 0.65, 0.35


def _word(value: float, scale: tuple[tuple[float, str], ...]) -> str:
    return next((word for threshold, word in scale if value >= threshold), "")


def explanation_text(info: dict[str, Any]) -> str:
    """One line a person reads, in words: "very close in sound · similar lyrics: rain, night · both tagged guitar".

    Never a bare number: the numbers stay in the stored JSON. Shared lyric
    words are called a theme only when the playlist has a theme (a prompt).
    """
    if info.get("queued"):
        return "saved from your queue"
    if info.get("seed"):
        return SEED_WORDS.get(str(info.get("why")), "one of your seeds")
    parts = []
    if "path" in info:
        parts.append(f"step {info['path']['step']} on the way to {info['path']['toward']}")
    if "audio" in info:
        sound = _word(float(info["audio"]), SOUND_WORDS)
        if sound:
            parts.append(sound)
    # Before the wording changed, "theme" held the words shared with the seeds; now it holds the words shared with the prompt.
    words = info.get("words") or ([] if "prompt" in info else info.get("theme")) or []
    theme_words = (info.get("theme") or []) if "prompt" in info else []
    lyrics = _word(float(info["lyrics"]), LYRICS_WORDS) if "lyrics" in info else ""
    if lyrics and words and "prompt" not in info:
        parts.append(f"{lyrics}: {', '.join(words)}")
    elif lyrics:
        parts.append(lyrics)
    elif words and "prompt" not in info:
        parts.append("shares the words " + ", ".join(words))
    if info.get("tags"):
        parts.append("both tagged " + ", ".join(info["tags"]))
    if "prompt" in info:
        how = _word(float(info["prompt"]["similarity"]), PROMPT_WORDS)
        theme = f"“{info['prompt']['text'][:40]}”"
        if how:
            parts.append(f"matches your theme {theme} {how}" + (f": {', '.join(theme_words)}" if theme_words else ""))
        elif theme_words:
            parts.append(f"similar themes: {', '.join(theme_words)}")
    if "taste" in info:
        if info["taste"] >= TASTE_LIKELY:
            parts.append("fits your taste")
        elif info["taste"] <= TASTE_UNLIKELY:
            parts.append("maybe not your taste")
    return " · ".join(parts) or "a looser match, to fill the playlist"
