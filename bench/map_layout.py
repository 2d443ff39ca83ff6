"""Which layout makes the catalogue map show its genres: each candidate scored on the demo catalogue, JSON.

    python -m bench.map_layout [--seeds 3] [--data-dir DIR]

Without ``--data-dir`` it synthesises, ingests and indexes the 48-track demo
catalogue (six styles) in a temporary data folder; with it, it reads the
serving index there (e.g. the one ``make demo`` built). For every layout it
reports the map's score, :func:`ml.fusion.projection.layout_score`: how
often a track's 5 nearest neighbours on the map share its genre, other
artists only (the same as p@5 in ``ml.evaluate``), beside the same score in
the full hybrid space; the silhouette of the genres on the map (how
visibly apart they are, -1 to 1); and the seconds per layout. Mean and
spread over ``--seeds`` random seeds.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path
from typing import Any, Callable

from bench.demo_catalogue import demo_catalogue


def _layouts(n: int) -> dict[str, Callable[..., Any]]:
    import numpy as np
    from sklearn.decomposition import PCA
    from sklearn.manifold import TSNE

    from ml.fusion.projection import project_2d

    cap = (n - 1) / 3.0

    def fused_tsne(vectors: Any, distances: Any, seed: int, perplexity: float, iterations: int) -> Any:
        reduced = PCA(n_components=min(50, n, vectors.shape[1]), random_state=seed).fit_transform(vectors)
        return TSNE(n_components=2, perplexity=min(perplexity, cap), init="pca", random_state=seed, max_iter=iterations).fit_transform(reduced.astype(np.float32))

    layouts: dict[str, Callable[..., Any]] = {
        # What the map did before: fused vectors, perplexity 30 capped at n/3, 250 + n/10 iterations.
        f"t-SNE, fused vectors, perplexity {min(30, cap):.1f}, {max(250, min(1000, 250 + n // 10))} iterations (before)": lambda v, d, s: fused_tsne(v, d, s, 30.0, max(250, min(1000, 250 + n // 10))),
        "PCA, fused vectors": lambda v, d, s: PCA(n_components=2, random_state=s).fit_transform(v),
    }
    for perplexity in (5.0, 15.0, 30.0):
        p = min(perplexity, cap)
        layouts[f"t-SNE, fused vectors, perplexity {p:g}, 1000 iterations"] = lambda v, d, s, p=p: fused_tsne(v, d, s, p, 1000)
        layouts[f"t-SNE, hybrid distances, perplexity {p:g}, 1000 iterations"] = lambda v, d, s, p=p: project_2d(distances=d, seed=s, perplexity=p)
    return layouts


def measure(seeds: int) -> dict[str, Any]:
    import numpy as np
    from django.conf import settings
    from sklearn.metrics import silhouette_score

    from ml.fusion.projection import layout_score, similarity_score
    from ml.playlist.vectors import scores_matrix, vectors_of
    from ml.scoring import balance_weights
    from playlists import engine
    from playlists.models import Track

    serving = engine.serving_or_raise()
    index = serving.index
    ids = index.track_ids()
    tracks = Track.objects.in_bulk([int(i) for i in ids])
    labels = [tracks[int(i)].genres[0] if tracks[int(i)].genres else "" for i in ids]
    groups = [str(tracks[int(i)].artist_id) for i in ids]
    vector_set = vectors_of(index, ids)
    similarity = np.nan_to_num(scores_matrix(vector_set, vector_set, balance_weights(settings.CROSSFADE.default_balance)).astype(np.float32), nan=0.0)
    distances = np.clip(1.0 - similarity, 0.0, 2.0)
    fused = index.fused_vectors(ids)
    fused_distances = ((fused[:, None, :] - fused[None, :, :]) ** 2).sum(axis=-1)
    result: dict[str, Any] = {
        "tracks": int(ids.size),
        "genres": len(set(labels) - {""}),
        "score": "share of a track's 5 nearest neighbours (other artists only) with its genre",
        "full_space": {"hybrid score": similarity_score(similarity, labels, groups), "fused vectors, euclidean": similarity_score(-fused_distances, labels, groups)},
        "layouts": {},
    }
    for name, lay_out in _layouts(int(ids.size)).items():
        scores, silhouettes, seconds = [], [], []
        for seed in range(seeds):
            started = time.perf_counter()
            layout = np.asarray(lay_out(fused, distances, seed))
            seconds.append(time.perf_counter() - started)
            scores.append(layout_score(layout, labels, groups) or 0.0)
            silhouettes.append(float(silhouette_score(layout, labels)))
        result["layouts"][name] = {
            "score": round(statistics.mean(scores), 3),
            "score_spread": round(statistics.pstdev(scores), 3),
            "silhouette": round(statistics.mean(silhouettes), 3),
            "seconds": round(statistics.median(seconds), 2),
        }
    return result


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--data-dir", type=Path, help="a data folder with a serving index (default: build the demo in a temporary one)")
    args = parser.parse_args(argv)
    with demo_catalogue(args.data_dir, prefix="crossfade-bench-map-"):
        result = {"cpu_count": os.cpu_count(), "load_average": [round(x, 2) for x in os.getloadavg()], **measure(args.seeds)}
    print(json.dumps(result, indent=2, ensure_ascii=False))
    return result


if __name__ == "__main__":
    main()
