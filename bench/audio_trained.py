"""The trained-CNN row of the audio evaluation: train on some artists, judge on the others.

    python -m bench.audio_trained [--manifest ../shared/data/manifests/emotify_genre.csv] [--epochs 15]

Holds out a quarter of the manifest's artists, trains ``train_audio``'s CNN
(ml/audio/train.py) on the rest, then scores the held-out tracks only (each
query's neighbours are other held-out tracks, artist-filtered) with the MFCC
baseline, the pretrained musicnn and the trained CNN, by genre and (with the
album manifest) by album. Prints JSON.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_MANIFEST = ROOT.parent / "shared" / "data" / "manifests" / "emotify_genre.csv"
DEFAULT_ALBUMS = ROOT.parent / "shared" / "data" / "manifests" / "emotify_album.csv"


def main(argv: list[str] | None = None) -> dict:
    from ml.audio.baseline import MfccStatsEmbedder
    from ml.audio.train import TrainConfig, TrainItem, artist_split, audio_cnn_train, trained_embedder_build
    from ml.config import AudioConfig
    from ml.evaluate import evaluate, manifest_read
    from ml.registry import audio_embedder_build

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--manifest", type=Path, default=DEFAULT_MANIFEST)
    parser.add_argument("--albums", type=Path, default=DEFAULT_ALBUMS, help="the same tracks labelled by album; scored on the same held-out tracks")
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--test-share", type=float, default=0.25)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if not args.manifest.is_file():
        print(f"skipped: no manifest at {args.manifest} (the shared Emotify data is absent)", file=sys.stderr)
        return {}
    rows = [r for r in manifest_read(args.manifest) if r.audio_path]
    items = [TrainItem(str(r.audio_path), r.group, r.label) for r in rows]
    train_rows, test_rows = artist_split(items, share=args.test_share, seed=args.seed)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="crossfade-trained-") as folder:
        result = audio_cnn_train([items[i] for i in train_rows], folder, config=TrainConfig(epochs=args.epochs, seed=args.seed))
        train_s = time.perf_counter() - started
        trained = trained_embedder_build(result.folder)
        held_out = [rows[i] for i in test_rows]
        embedders = dict(audio_embedders=[audio_embedder_build(AudioConfig(model="musicnn-mtt")), trained], baseline_embedder=MfccStatsEmbedder(), seed=args.seed)
        report = evaluate(held_out, **embedders)
        album_methods = None
        if args.albums.is_file():
            # The split stays the genre manifest's (by artist); only the label changes.
            held_ids = {r.track_id for r in held_out}
            album_rows = [r for r in manifest_read(args.albums) if r.track_id in held_ids]
            album_methods = evaluate(album_rows, **embedders)["methods"]
    output = {
        "manifest": str(args.manifest),
        "train_tracks": result.train_tracks,
        "validation_tracks": result.validation_tracks,
        "test_tracks": len(test_rows),
        "test_artists": len({rows[i].group for i in test_rows}),
        "best_epoch": result.best_epoch,
        "stopped_early": result.stopped_early,
        "train_s": round(train_s, 1),
        "methods": report["methods"],
        "album_methods": album_methods,
    }
    print(json.dumps(output, indent=2))
    return output


if __name__ == "__main__":
    main()
