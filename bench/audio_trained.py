"""The trained rows of the audio evaluation: fine-tune (and, for comparison, train from scratch) on some artists, judge on the others.

    python -m bench.audio_trained [--manifest ../shared/data/manifests/emotify_genre.csv] [--base M] [--epochs 30] [--scratch]
        [--embeddings-cache emb.npz] [--out trained.json]

Holds out a quarter of the manifest's artists (seeded), fine-tunes the
pretrained ``--base`` model (``ml/audio/finetune.py``: frozen front end,
contrastive + genre + album supervision + tag distillation; its own
validation and test artists come out of the remaining three quarters) on the
rest, then scores the held-out tracks only (each query's neighbours are other
held-out tracks, artist-filtered) with the MFCC baseline, the pretrained
base, the fine-tuned model and, with ``--scratch``, ``train_audio``'s CNN
trained from scratch, by genre and (with the album manifest) by album.
Prints JSON (and writes ``--out``), with the fine-tuning run's own
serve / keep-off decision.

    python -m bench.audio_trained --genre-head [--base musicnn-mtt+musicnn-msd] [--embeddings-cache emb.npz] [--out head.json]

instead tests the genre head on the frozen taggers (``ml/audio/genre_head.py``):
4 folds by artist, every clip scored by a head fitted without its artist,
against the untrained vectors on the same folds (genre artist-filtered;
album among the fold and against every clip). The base vectors come from
``ml.evaluate``'s embeddings cache where it holds them.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_MANIFEST = ROOT.parent / "shared" / "data" / "manifests" / "emotify_genre.csv"
DEFAULT_ALBUMS = ROOT.parent / "shared" / "data" / "manifests" / "emotify_album.csv"


def main(argv: list[str] | None = None) -> dict[str, Any]:
    sys.path.insert(0, str(ROOT))
    from ml.audio.baseline import MfccStatsEmbedder
    from ml.audio.finetune import FineTuneConfig, FineTuneItem, audio_finetune
    from ml.audio.train import TrainConfig, TrainItem, artist_split, audio_cnn_train, trained_embedder_build
    from ml.config import AudioConfig
    from ml.evaluate import EmbeddingCache, evaluate, manifest_read
    from ml.registry import audio_embedder_build

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--manifest", type=Path, default=DEFAULT_MANIFEST)
    parser.add_argument("--albums", type=Path, default=DEFAULT_ALBUMS, help="the same tracks labelled by album; scored on the same held-out tracks")
    parser.add_argument("--base", default=AudioConfig().model, help="the pretrained model fine-tuned")
    parser.add_argument("--epochs", type=int, default=FineTuneConfig().epochs)
    parser.add_argument("--scratch", action="store_true", help="also train the from-scratch CNN of train_audio (slow)")
    parser.add_argument("--test-share", type=float, default=0.25)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--genre-head", action="store_true", help="test the genre head on the frozen taggers instead of fine-tuning")
    parser.add_argument("--embeddings-cache", type=Path, default=None, help="ml.evaluate's vector cache (.npz): read and extended with --genre-head, read only when fine-tuning")
    parser.add_argument("--folds", type=int, default=4)
    args = parser.parse_args(argv)
    if not args.manifest.is_file():
        print(f"skipped: no manifest at {args.manifest} (the shared Emotify data is absent)", file=sys.stderr)
        return {}
    if args.genre_head:
        return _genre_head(args)
    load_before = os.getloadavg()
    rows = [r for r in manifest_read(args.manifest) if r.audio_path]
    album_of = {r.track_id: r.label for r in manifest_read(args.albums)} if args.albums.is_file() else {}
    split_items = [TrainItem(str(r.audio_path), r.group, r.label) for r in rows]
    train_rows, test_rows = artist_split(split_items, share=args.test_share, seed=args.seed)
    held_out = [rows[i] for i in test_rows]
    output: dict[str, Any] = {
        "manifest": str(args.manifest),
        "base": args.base,
        "seed": args.seed,
        "epochs": args.epochs,
        "train_artists_tracks": len(train_rows),
        "test_tracks": len(test_rows),
        "test_artists": len({rows[i].group for i in test_rows}),
    }
    with tempfile.TemporaryDirectory(prefix="crossfade-trained-") as folder:
        started = time.perf_counter()
        epoch_ends: list[float] = []

        def epoch_done(done: int, total: int, note: str = "") -> None:
            epoch_ends.append(time.perf_counter())

        items = [FineTuneItem(str(rows[i].audio_path), rows[i].group, rows[i].label, album_of.get(rows[i].track_id, "")) for i in train_rows]
        tuned = audio_finetune(items, folder, config=FineTuneConfig(base=args.base, epochs=args.epochs, seed=args.seed), progress=epoch_done)
        saved = json.loads((tuned.folder / "config.json").read_text())
        output["fine_tune"] = {
            "seconds": round(time.perf_counter() - started, 1),
            "front_end_cache_seconds": saved.get("cache_seconds"),
            "epoch_seconds": [round(b - a, 1) for a, b in zip([started + float(saved.get("cache_seconds") or 0.0), *epoch_ends], epoch_ends)],
            "epochs": args.epochs,
            "best_epoch": tuned.best_epoch,
            "epochs_run": len(tuned.history),
            "train_tracks": tuned.train_tracks,
            "validation_tracks": tuned.validation_tracks,
            "test_tracks": tuned.test_tracks,
            "decision": tuned.decision,
            "history": tuned.history,
        }
        models_dir = Path(folder)
        embedders: list[Any] = [
            audio_embedder_build(AudioConfig(model=args.base)),
            audio_embedder_build(AudioConfig(model=f"trained:{tuned.version}", models_dir=models_dir)),
        ]
        if args.scratch:
            started = time.perf_counter()
            scratch = audio_cnn_train([split_items[i] for i in train_rows], folder, config=TrainConfig(epochs=15, seed=args.seed))
            output["scratch"] = {"seconds": round(time.perf_counter() - started, 1), "best_epoch": scratch.best_epoch}
            embedders.append(trained_embedder_build(scratch.folder))
        names = [f"audio:{args.base}", "audio:fine-tuned", "audio:trained-cnn"][: len(embedders)]
        for embedder, name in zip(embedders, names):
            embedder.name = name.partition(":")[2]
        # One vector cache for the genre and album scoring, so each held-out track is embedded once per model; seeded from
        # ml.evaluate's cache where given (read, never written back: the fine-tuned version is new to every run).
        cache = EmbeddingCache(args.embeddings_cache)
        common = dict(audio_embedders=embedders, baseline_embedder=MfccStatsEmbedder(), seed=args.seed, cache=cache)
        started = time.perf_counter()
        report = evaluate(held_out, **common)
        output["methods"] = report["methods"]
        output["embed_seconds"] = report["embed_seconds"]
        if args.albums.is_file():
            # The split stays the genre manifest's (by artist); only the label changes.
            held_ids = {r.track_id for r in held_out}
            album_rows = [r for r in manifest_read(args.albums) if r.track_id in held_ids]
            output["album_methods"] = evaluate(album_rows, **common)["methods"]
        output["score_seconds"] = round(time.perf_counter() - started, 1)
    output["load_average_before"] = [round(x, 2) for x in load_before]
    output["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    output["created"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    return _emit(output, args.out)


def _emit(output: dict[str, Any], out: Path | None) -> dict[str, Any]:
    """Print ``output`` as JSON, and write it to ``out`` too where given."""
    text = json.dumps(output, indent=2)
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text + "\n")
    print(text)
    return output


def _genre_head(args: argparse.Namespace) -> dict[str, Any]:
    import numpy as np

    from ml.audio.genre_head import genre_head_cross_validate
    from ml.config import AudioConfig
    from ml.evaluate import EmbeddingCache, manifest_read
    from ml.registry import audio_embedder_build

    base = args.base if args.base != AudioConfig().model else "musicnn-mtt+musicnn-msd"
    load_before = os.getloadavg()
    rows = [r for r in manifest_read(args.manifest) if r.audio_path]
    album_of = {r.track_id: r.label for r in manifest_read(args.albums)} if args.albums.is_file() else {}
    cache = EmbeddingCache(args.embeddings_cache)
    embedder: Any = audio_embedder_build(AudioConfig(model=base))
    vectors, analysed = [], 0
    for row in rows:
        vector = cache.get(embedder.version, str(row.audio_path))
        if vector is None:
            vector = embedder.embed([str(row.audio_path)])[0]
            cache.put(embedder.version, str(row.audio_path), vector)
            analysed += 1
        vectors.append(vector)
    if analysed:
        cache.save()
    started = time.perf_counter()
    albums = [album_of.get(r.track_id, "") for r in rows] if album_of else None
    result = genre_head_cross_validate(np.stack(vectors), [r.label for r in rows], [r.group for r in rows], albums, folds=args.folds, seed=args.seed)
    output = {
        "manifest": str(args.manifest),
        "base": base,
        "version": embedder.version,
        "tracks": len(rows),
        "analysed_now": analysed,
        "fit_and_score_s": round(time.perf_counter() - started, 1),
        **result,
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    return _emit(output, args.out)


if __name__ == "__main__":
    main()
