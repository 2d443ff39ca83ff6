"""What "smooth flow" does to a playlist's relevance and smoothness, against "closest first", on the demo catalogue, JSON.

    python -m bench.flow_order [--length 20] [--data-dir DIR]

For a one-seed playlist of every demo track (48 seeds), the same tracks in
three orders: by relevance ("closest first"), the old flow (smoothest
path from the seed, relevance ignored: ``ml.playlist.ordering.flow_order``)
and the flow that keeps relevance (``flow_order_ranked``: blocks of the
next strongest matches, each in its smoothest order). Reported per order,
averaged over the seeds: the relevance of places 2-6 as a share of the five
best matches' (1.0 = the five best open the playlist), the place of the
best match, the place of the weakest, and the mean hybrid similarity (with
the tempo/key bonus) of consecutive tracks. Without ``--data-dir`` it
builds the demo in a temporary folder.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
from pathlib import Path
from typing import Any

from bench.demo_catalogue import demo_catalogue


def measure(length: int) -> dict[str, Any]:
    import numpy as np

    from ml.playlist.ordering import flow_order, flow_order_ranked
    from playlists import engine
    from playlists.generation.build import playlist_build
    from playlists.generation.settings import PlaylistSettings
    from playlists.generation.similar import flow_similarity
    from playlists.models import Track

    serving = engine.serving_or_raise()
    index = serving.index
    seeds = [int(i) for i in index.track_ids()]
    rows: dict[str, dict[str, list[float]]] = {name: {"front": [], "best_at": [], "weakest_at": [], "transition": []} for name in ("closest first", "flow before", "flow now")}
    for seed in seeds:
        built = playlist_build(PlaylistSettings(seed_ids=[seed], length=length, order="score"), serving=serving)
        tracks = Track.objects.select_related("artist").in_bulk([i.track_id for i in built.items])
        chosen = [tracks[i.track_id] for i in built.items]
        relevance = np.asarray([np.inf] + [i.score for i in built.items[1:]], dtype=np.float64)
        similarity = flow_similarity(index, chosen, PlaylistSettings(seed_ids=[seed]).weights)
        orders = {
            "closest first": list(range(len(chosen))),
            "flow before": flow_order(similarity, start=0, fixed_prefix=1),
            "flow now": flow_order_ranked(similarity, relevance, fixed_prefix=1),
        }
        best_five = float(np.mean(sorted(relevance[1:], reverse=True)[:5]))
        for name, order in orders.items():
            free = order[1:]
            scores = relevance[free]
            rows[name]["front"].append(float(np.mean(scores[:5])) / best_five if best_five else 1.0)
            rows[name]["best_at"].append(2 + int(np.argmax(scores)))
            rows[name]["weakest_at"].append(2 + int(np.argmin(scores)))
            rows[name]["transition"].append(float(np.mean([similarity[a, b] for a, b in zip(order[:-1], order[1:])])))
    return {
        "seeds": len(seeds),
        "length": length,
        "orders": {
            name: {
                "front_relevance_share": round(statistics.mean(v["front"]), 3),
                "front_relevance_share_worst_seed": round(min(v["front"]), 3),
                "best_match_place": round(statistics.mean(v["best_at"]), 1),
                "weakest_match_place": round(statistics.mean(v["weakest_at"]), 1),
                "mean_transition_similarity": round(statistics.mean(v["transition"]), 3),
            }
            for name, v in rows.items()
        },
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--length", type=int, default=20)
    parser.add_argument("--data-dir", type=Path, help="a data folder with a serving index (default: build the demo in a temporary one)")
    args = parser.parse_args(argv)
    with demo_catalogue(args.data_dir, prefix="crossfade-bench-flow-"):
        result = {"cpu_count": os.cpu_count(), "load_average": [round(x, 2) for x in os.getloadavg()], **measure(args.length)}
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
