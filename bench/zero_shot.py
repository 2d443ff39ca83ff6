"""Search by sound in words, zero-shot: Emotify's genre names as prompts, in English and Russian.

    python -m bench.zero_shot [--manifest ../shared/data/manifests/emotify_genre.csv] [--model M] [--cache tags.npz] [--out zero_shot.json]

Every Emotify clip is tagged by the audio model (the real analysis path,
``embed_with_tags``); each prompt ("classical", "rock", "electronic", "pop";
"классическая музыка", "рок", "электронная музыка", "поп") is mapped to tag
weights by the configured multilingual encoder (``ml.audio.describe``) and
the 400 clips are ranked by their tags. Reported per prompt and on average:
precision@10 (and @5, @20) of that genre among the returned clips, with the
tags each prompt matched, for the model's tags together and for each
vocabulary alone. Random ranking gives 0.25 (four balanced genres). Prints
JSON (and writes ``--out``).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_MANIFEST = ROOT.parent / "shared" / "data" / "manifests" / "emotify_genre.csv"
PROMPTS: dict[str, dict[str, str]] = {
    "en": {"classical": "classical", "rock": "rock", "electronic": "electronic", "pop": "pop"},
    "ru": {"classical": "классическая музыка", "rock": "рок", "electronic": "электронная музыка", "pop": "поп"},
}
KS = (5, 10, 20)


def tags_of(rows: list[Any], model: str, cache: Path | None) -> dict[str, dict[str, float]]:
    """``{track_id: {tag key: probability}}`` from the real analysis path (cached in ``cache`` when given)."""
    if cache is not None and cache.is_file():
        stored = json.loads(cache.read_text())
        if stored.get("model") == model and set(stored["tags"]) >= {r.track_id for r in rows}:
            return dict(stored["tags"])
    from ml.config import AudioConfig
    from ml.registry import audio_embedder_build

    embedder: Any = audio_embedder_build(AudioConfig(model=model))
    tags = {}
    for row in rows:
        tags[row.track_id] = embedder.embed_with_tags([str(row.audio_path)])[1][0]
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        cache.write_text(json.dumps({"model": model, "version": embedder.version, "tags": tags}))
    return tags


def main(argv: list[str] | None = None) -> dict[str, Any]:
    sys.path.insert(0, str(ROOT))
    from ml.audio.describe import SoundVocabulary, TagTable, sound_query
    from ml.config import AudioConfig, LyricsConfig
    from ml.evaluate import manifest_read
    from ml.registry import lyrics_embedder_build

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--manifest", type=Path, default=DEFAULT_MANIFEST)
    parser.add_argument("--model", default=AudioConfig().model)
    parser.add_argument("--lyrics-model", default=LyricsConfig().model, help="the sentence encoder prompts and tags are encoded with")
    parser.add_argument("--cache", type=Path, default=None, help="a JSON file keeping the clips' tags between runs")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    if not args.manifest.is_file():
        print(f"skipped: no manifest at {args.manifest} (the shared Emotify data is absent)", file=sys.stderr)
        return {}
    rows = [r for r in manifest_read(args.manifest) if r.audio_path]
    started = time.perf_counter()
    tags = tags_of(rows, args.model, args.cache)
    tag_seconds = time.perf_counter() - started
    ids = {r.track_id: i for i, r in enumerate(rows)}
    genre = np.array([r.label for r in rows], dtype=object)
    table = TagTable.from_tags({ids[t]: values for t, values in tags.items() if t in ids})
    encoder = lyrics_embedder_build(LyricsConfig(model=args.lyrics_model))
    vocabulary = SoundVocabulary.build(encoder)
    vocabularies = sorted({key.partition(":")[0] for key in table.keys})
    settings = {"both": list(table.keys), **{v: [k for k in table.keys if k.startswith(f"{v}:")] for v in vocabularies}} if len(vocabularies) > 1 else {"both": list(table.keys)}
    results: dict[str, Any] = {}
    for setting, available in settings.items():
        per_language: dict[str, Any] = {}
        for language, prompts in PROMPTS.items():
            per_prompt = {}
            for label, prompt in prompts.items():
                query = sound_query(prompt, vocabulary, encoder, available=available)
                found, _ = table.search(query, k=max(KS))
                hits = genre[found] == label
                per_prompt[label] = {"prompt": prompt, "matched": list(query.weights)[:4], **{f"p@{k}": round(float(hits[:k].mean()), 3) for k in KS}}
            per_language[language] = {
                "prompts": per_prompt,
                **{f"mean_p@{k}": round(float(np.mean([p[f"p@{k}"] for p in per_prompt.values()])), 3) for k in KS},
            }
        results[setting] = per_language
    report = {
        "manifest": str(args.manifest),
        "model": args.model,
        "lyrics_model": args.lyrics_model,
        "tracks": len(rows),
        "random_p@10": round(float(max(np.mean(genre == g) for g in set(genre))), 3),
        "tag_seconds": round(tag_seconds, 1),
        "results": results,
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    text = json.dumps(report, indent=2, ensure_ascii=False)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n")
    print(text)
    return report


if __name__ == "__main__":
    main()
