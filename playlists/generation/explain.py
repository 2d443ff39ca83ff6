"""Why a track is in a playlist: similarity to the seeds per modality, shared audio tags and lyric words, the prompt, taste.

Each item stores the explanation as JSON (``PlaylistItem.explanation``) and
a line a person reads (``why``).
"""
from __future__ import annotations

import math
import re
from collections import Counter
from functools import lru_cache
from typing import Any

import numpy as np

from ml.audio.tags import tag_label
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
    sound_scores = seeds.sound.column(np.asarray([t.id for t in chosen], dtype=np.int64)) if seeds.sound is not None else None
    seed_tags: Counter[str] = Counter()
    seed_words: Counter[str] = Counter()
    for t in seed_tracks:
        seed_tags.update(top_tags(t))
        seed_words.update(lyric_words(t.lyrics))
    seed_ids = {t.id for t in seeds.tracks}
    for row, track in enumerate(chosen):
        info: dict[str, Any] = {}
        if track.id in seed_ids:
            info["seed"] = True
        if audio_sim is not None and not math.isnan(float(audio_sim[row])):
            info["audio"] = round(float(audio_sim[row]), 4)
        if lyrics_sim is not None and not math.isnan(float(lyrics_sim[row])):
            info["lyrics"] = round(float(lyrics_sim[row]), 4)
        tags = top_tags(track)
        shared_tags = list(dict.fromkeys(tag_label(t) for t in sorted((t for t in tags if t in seed_tags), key=lambda t: -tags[t])))[:3]
        if shared_tags:
            info["tags"] = shared_tags
        if track.id not in seed_ids:
            words = lyric_words(track.lyrics)
            shared_words = [w for w, _ in sorted(((w, n) for w, n in words.items() if w in seed_words), key=lambda x: (-x[1], x[0]))[:3]]
            if shared_words:
                info["theme"] = shared_words
        if prompt_cos is not None and not math.isnan(float(prompt_cos[row])):
            info["prompt"] = {"text": settings.seed_text, "similarity": round(float(prompt_cos[row]), 4)}
        if seeds.sound is not None and sound_scores is not None and track.id not in seed_ids:
            matched = seeds.sound.table.matched(track.id, seeds.sound.query)
            if matched:
                info["sound"] = {"matched": matched, "score": round(float(sound_scores[row]), 4)}
        if taste_of is not None and track.id in taste_of:
            info["taste"] = round(float(taste_of[track.id]), 4)
        info["why"] = explanation_text(info)
        out[track.id] = info
    return out


def explanation_text(info: dict[str, Any]) -> str:
    """One line a person reads: "seed" or "sounds 0.81 · lyrics 0.42 · shared: guitar · theme: rain, night"."""
    if info.get("seed"):
        return "seed"
    parts = []
    if "path" in info:
        parts.append(f"step {info['path']['step']} toward {info['path']['toward']} ({info['path']['similarity']:.2f})")
    if "audio" in info:
        parts.append(f"sounds {info['audio']:.2f} like the seeds")
    if "lyrics" in info:
        parts.append(f"lyrics {info['lyrics']:.2f}")
    if info.get("tags"):
        parts.append("shared: " + ", ".join(info["tags"]))
    if info.get("theme"):
        parts.append("theme: " + ", ".join(info["theme"]))
    if "prompt" in info:
        parts.append(f"matches “{info['prompt']['text'][:40]}” {info['prompt']['similarity']:.2f}")
    if info.get("sound"):
        parts.append("matched: " + ", ".join(info["sound"]["matched"]))
    if "taste" in info:
        parts.append(f"you'd like it: {info['taste']:.0%}")
    return " · ".join(parts) or "close to the seeds"
