"""Lyrics encoding speed per encoder on 2 CPU cores, and the time a 10,000-song library would take.

    python -m bench.lyrics [--model NAME ...] [--repeat 1] [--cores 2]

Embeds the real lyrics of ../shared/data/jamendolyrics (79 songs in four
languages, cleaned as at reindex) in batches of 16, as reindex does, after one
warm-up batch; model loading is timed apart. Prints JSON: per encoder,
lyrics/second, the projected seconds and minutes for 10,000 lyrics, chunks per
lyric, and whether that is under the 15-minute target; and language detection
speed. Figures taken while other work shares the cores are upper bounds on time.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent / ".." / "shared" / "data" / "jamendolyrics" / "lyrics"
MODELS = ("minilm-l6", "use-multilingual", "e5-small")
LIBRARY = 10_000
TARGET_S = 15 * 60
BATCH = 16


def _pin(cores: int) -> list[int]:
    """Keep this process, and the thread pools it starts, on ``cores`` CPUs."""
    available = sorted(os.sched_getaffinity(0))
    chosen = available[:cores]
    os.sched_setaffinity(0, chosen)
    for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[variable] = str(len(chosen))
    return chosen


def _corpus(min_words: int) -> list[str]:
    from ml.text.clean import lyrics_clean, lyrics_word_count
    from ml.text.files import lyrics_file_read

    texts = []
    for path in sorted(DATA.glob("*.txt")):
        if path.name.endswith(".words.txt"):
            continue
        cleaned = lyrics_clean(lyrics_file_read(path)[0])
        if lyrics_word_count(cleaned) >= min_words:
            texts.append(cleaned)
    return texts


def _measure(model: str, texts: list[str], repeat: int) -> dict:
    from ml.config import LyricsConfig
    from ml.registry import lyrics_embedder_build

    started = time.perf_counter()
    encoder = lyrics_embedder_build(LyricsConfig(model=model))
    # Some encoders load their weights on first use: the warm-up batch counts as loading.
    encoder.embed(texts[:2])
    load_s = time.perf_counter() - started
    chunks = sum(len(encoder.chunks(text)) for text in texts)
    started = time.perf_counter()
    for _ in range(repeat):
        for start in range(0, len(texts), BATCH):
            encoder.embed(texts[start : start + BATCH])
    seconds = time.perf_counter() - started
    rate = repeat * len(texts) / seconds
    projected = LIBRARY / rate
    return {
        "version": encoder.version,
        "dim": encoder.dim,
        "load_and_warmup_s": round(load_s, 2),
        "lyrics": repeat * len(texts),
        "seconds": round(seconds, 2),
        "lyrics_per_s": round(rate, 2),
        "chunks_per_lyric": round(chunks / len(texts), 2),
        "projected_10k_s": round(projected, 1),
        "projected_10k_min": round(projected / 60, 1),
        "under_15_min": projected < TARGET_S,
    }


def _language_speed(texts: list[str]) -> dict:
    from ml.text.language import language_detect

    language_detect(texts[0])
    started = time.perf_counter()
    codes = [language_detect(text) for text in texts]
    seconds = time.perf_counter() - started
    return {"lyrics_per_s": round(len(texts) / seconds, 1), "projected_10k_s": round(LIBRARY * seconds / len(texts), 1), "found": sorted(set(codes))}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", action="append", default=None, help=f"encoder(s) to time (repeatable); default {', '.join(MODELS)}")
    parser.add_argument("--repeat", type=int, default=1, help="passes over the corpus")
    parser.add_argument("--cores", type=int, default=2)
    args = parser.parse_args(argv)
    cores = _pin(args.cores)
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    if not DATA.is_dir():
        print(json.dumps({"skipped": f"no lyrics at {DATA.resolve()}: the jamendolyrics data set is needed"}))
        return {}
    import torch

    torch.set_num_threads(len(cores))
    from ml.config import LyricsConfig

    texts = _corpus(LyricsConfig().min_words)
    result: dict = {
        "cores": cores,
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "corpus": {"lyrics": len(texts), "mean_words": round(sum(len(t.split()) for t in texts) / len(texts), 1)},
        "encoders": {},
    }
    for model in args.model or MODELS:
        result["encoders"][model] = _measure(model, texts, args.repeat)
    result["language_detection"] = _language_speed(texts)
    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
