"""Time to answer a 50-track playlist request, on the demo catalogue and on a large synthetic index.

    python -m bench.playlist [--repeats 5] [--synthetic 1000000] [--skip-demo]

Demo part: synthesises, ingests and indexes the 48-track demo catalogue in a
temporary data folder, then times (median of ``--repeats``, after one warm-up)
``playlist_build`` for a 50-track request in several shapes and the whole
``GET /api/recommendations`` round trip through Django with a bearer token.
On 48 tracks a 50-track request returns what there is (47 and a message).

Synthetic part, in a fresh process: a HybridIndex of ``--synthetic`` tracks
of the synthetic catalogue of ``bench.index`` at the configured models'
dimensions (``bench.shapes.product_dims``: 400-d audio, 512-d lyrics by
default), built streamed from its generator (``HybridIndex.build_streamed``),
and the vector side of a 50-track request: candidate search, exact hybrid
re-rank, MMR diversity and flow ordering. The database side (fetching
candidate rows) is not in this figure. ``synthetic.peak_rss_mb`` is that
process's peak resident memory (the build included; ``VmHWM`` of its own
address space, :mod:`bench.memory`), with the peak of each phase in
``synthetic.phase_peak_rss_mb``: ``sources`` (counting the synthetic rows),
``build`` (the streamed build, in chunks of ``--chunk`` rows as
``index_publish`` reads them; the synthetic source itself holds one
generation step of 100,000 tracks, ~370 MB, that a build from stored
embeddings does not), ``requests``. ``demo.peak_rss_mb`` is the demo part's
(models loaded). Prints JSON with the load average before and after.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.load import load_average  # noqa: E402
from bench.memory import PhasePeaks  # noqa: E402

#: Rows per chunk of the streamed build, as the product's reindex builds (playlists.catalogue.reindex.BUILD_CHUNK_ROWS).
BUILD_CHUNK_ROWS = 20_000


def _median_seconds(function, repeats: int) -> float:
    function()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return round(statistics.median(times), 4)


def _demo(repeats: int) -> dict:
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.test import Client

    from playlists import engine
    from playlists.accounts.tokens import api_token_create
    from playlists.catalogue.ingest import library_ingest
    from playlists.catalogue.reindex import index_rebuild
    from playlists.demo.music import demo_library_write
    from playlists.generation.build import playlist_build
    from playlists.generation.settings import PlaylistSettings
    from playlists.models import Rating, Track

    workdir = Path(os.environ["CROSSFADE_DATA_DIR"])
    call_command("migrate", verbosity=0)
    demo_library_write(workdir / "music", seed=7)
    library_ingest(workdir / "music")
    index_rebuild()
    engine.embedder_get("lyrics")
    tracks = list(Track.objects.order_by("id"))
    by_genre: dict[str, list[Track]] = {}
    for track in tracks:
        by_genre.setdefault(track.genre, []).append(track)
    user = get_user_model().objects.create_user("bench", password="bench-password-1")
    for track in by_genre["Techno"]:
        Rating.objects.create(user=user, track=track, value=1)
    for track in by_genre["Ballad"]:
        Rating.objects.create(user=user, track=track, value=-1)
    seed = by_genre["Rock"][0]
    shapes = {
        "one_seed": PlaylistSettings(seed_ids=[seed.id], length=50),
        "five_seeds_text_diversity_flow": PlaylistSettings(
            seed_ids=[t.id for t in tracks[:5]], seed_text="rain on the window at night", length=50, diversity=0.5, order="flow", max_per_artist=3
        ),
        "filters_targets_taste": PlaylistSettings(seed_ids=[seed.id], length=50, exclude_genres=["Ambient"], languages=["en"], taste=0.5, attributes={"duration_ms": {"target": 25000}}),
        "path_50_steps": PlaylistSettings(path=[by_genre["Techno"][0].id, by_genre["Ballad"][0].id], length=50),
    }
    result: dict = {"tracks": len(tracks), "requests": {}}
    for name, settings in shapes.items():
        built = playlist_build(settings, user=user)
        result["requests"][name] = {"seconds": _median_seconds(lambda s=settings: playlist_build(s, user=user), repeats), "returned": len(built.items)}
    secret = api_token_create(user=user)[1]
    client = Client()
    params = {"seed_tracks": str(seed.id), "limit": 50, "target_tempo": 120, "diversity": 0.3}
    response = client.get("/api/recommendations", params, HTTP_AUTHORIZATION=f"Bearer {secret}")
    if response.status_code != 200:
        raise SystemExit(f"API answered {response.status_code}: {response.content[:300]!r}")
    result["requests"]["api_recommendations_http"] = {
        "seconds": _median_seconds(lambda: client.get("/api/recommendations", params, HTTP_AUTHORIZATION=f"Bearer {secret}"), repeats),
        "returned": len(response.json()["tracks"]),
    }
    return result


def _synthetic(count: int, repeats: int, seed: int = 7, chunk: int = BUILD_CHUNK_ROWS) -> dict:
    """In a fresh process (spawned): build the synthetic index streamed and time the vector side of a request."""
    import numpy as np

    from bench.index import SyntheticSource
    from bench.shapes import product_dims
    from ml.fusion.hybrid import HybridIndex
    from ml.playlist.diversity import mmr_select
    from ml.playlist.ordering import flow_order
    from ml.playlist.vectors import candidates_search, relevance, scores_matrix, vectors_of
    from ml.scoring import balance_weights

    dims = product_dims()
    peaks = PhasePeaks()
    spill = Path(tempfile.mkdtemp(prefix="crossfade-bench-playlist-spill-"))
    try:
        started = time.perf_counter()
        with peaks.phase("sources"):
            sources = {m: SyntheticSource(count, m, dims=dims, seed=seed) for m in ("audio", "lyrics")}
        with peaks.phase("build"):
            index = HybridIndex.build_streamed(sources, {"audio": "synthetic", "lyrics": "synthetic"}, spill_dir=spill, chunk=chunk)
        build_s = time.perf_counter() - started
        rng = np.random.default_rng(seed)
        weights = balance_weights(0.5)
        seeds = rng.choice(index.indexes["lyrics"].store.ids, 3, replace=False)

        def request() -> int:
            seed_vectors = vectors_of(index, seeds)
            candidates = candidates_search(index, seed_vectors, weights, 200)
            candidates = candidates[~np.isin(candidates, seeds)]
            candidate_vectors = vectors_of(index, candidates)
            scores = relevance([(seed_vectors, weights)], candidate_vectors)
            similarity = scores_matrix(candidate_vectors, candidate_vectors, weights)
            picks = mmr_select(np.nan_to_num(scores, nan=-1.0), similarity, count=50, diversity=0.3)
            flow_order(similarity[np.ix_(picks, picks)])
            return len(picks)

        with peaks.phase("requests"):
            returned = request()
            seconds = _median_seconds(request, repeats)
    finally:
        shutil.rmtree(spill, ignore_errors=True)
    return {
        "tracks": count,
        "dims": dims,
        "build_index_s": round(build_s, 2),
        "request_50_vector_side_s": seconds,
        "returned": returned,
        "build_chunk_rows": chunk,
        **peaks.report(),
    }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--synthetic", type=int, default=100_000, help="tracks in the synthetic index (0: skip)")
    parser.add_argument("--skip-demo", action="store_true")
    parser.add_argument("--chunk", type=int, default=BUILD_CHUNK_ROWS, help="rows per chunk of the synthetic part's streamed build")
    args = parser.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="crossfade-bench-playlist-"))
    os.environ["CROSSFADE_DATA_DIR"] = str(workdir)
    os.environ["CROSSFADE_MUSIC_DIR"] = str(workdir / "music")  # a library root: ingest reads only there
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    import django

    django.setup()
    result: dict = {"cpu_count": os.cpu_count(), "load_average_before": load_average()}
    try:
        if args.synthetic:
            # First and in its own process: its peak memory is the build's and the request's, not the demo's models.
            with multiprocessing.get_context("spawn").Pool(1) as pool:
                result["synthetic"] = pool.apply(_synthetic, (args.synthetic, args.repeats, 7, args.chunk))
        if not args.skip_demo:
            result["demo"] = _demo(args.repeats)
            result["demo"]["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    result["load_average_after"] = load_average()
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
