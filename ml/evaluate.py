"""Nearest-neighbour evaluation of Crossfade's embeddings on a labelled manifest.

    python -m ml.evaluate MANIFEST --out report.json

For each method (``audio:<model>``, ``lyrics:<model>``, ``hybrid:weighted-<w>``,
``hybrid:learned-<version>`` with ``--fusion-model``, ``baseline:mfcc``,
``baseline:random``) every track queries its nearest
neighbours among the others; neighbours with the same ``group`` (the artist)
are skipped, the artist filter of Pampalk et al. (2005). p@k is the share of
the first k remaining neighbours whose ``label`` matches the query's,
averaged over the queries that have at least k neighbours; ``n`` is that
number of queries. Vectors go through the same per-modality standardisation
as the serving index, so the numbers describe what the site serves.

``whitening`` in the report compares the catalogue whitening options
(``standardise``, ``whiten`` = ZCA, ``none``) on the same embeddings: each
modality alone and the hybrid at the configured balance.

With ``--fusion-model FOLDER`` (a ``data/models/fusion/<version>`` folder
written by ``manage.py train_fusion``) the learned projection is applied on
top of the standardised vectors and scored at the configured balance. It was
trained on a catalogue's artists: on that catalogue's own manifest the row is
optimistic (training artists included); the held-out figure is in the
model's ``config.json``.

The manifest is a CSV with ``track_id``, ``label``, ``group`` and optionally
``audio_path``, ``lyrics_path`` (relative to the CSV) or ``lyrics``.
"""
from __future__ import annotations

import argparse
import csv
import json
import logging
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from ml.audio.baseline import MfccStatsEmbedder
from ml.audio.taggers import taggers_parse
from ml.config import AudioConfig, LyricsConfig
from ml.embedder import Embedder, l2_normalise
from ml.errors import MLError
from ml.fusion.learned import FusionModel
from ml.metrics import DEFAULT_KS, Precision, neighbour_precision
from ml.registry import AUDIO_MODELS, audio_embedder_build, lyrics_embedder_build
from ml.scoring import balance_weights, pair_scores
from ml.text.clean import lyrics_clean, lyrics_word_count
from ml.text.files import lyrics_file_read
from ml.whitening import DEFAULT_WHITENING, WHITENINGS, whitener_fit

logger = logging.getLogger(__name__)

REQUIRED_COLUMNS = ("track_id", "label", "group")
SWEEP = (0.0, 0.25, 0.5, 0.75, 1.0)


class ManifestError(MLError):
    """The manifest cannot be used: missing file, missing columns, duplicate ids."""


@dataclass(frozen=True)
class ManifestRow:
    track_id: str
    label: str
    group: str
    audio_path: Path | None
    lyrics: str | None


def manifest_read(path: str | Path) -> list[ManifestRow]:
    """Rows of an evaluation manifest; paths are resolved relative to the CSV."""
    path = Path(path)
    try:
        handle = open(path, newline="", encoding="utf-8-sig")
    except OSError as error:
        raise ManifestError(f"{path}: cannot open the manifest ({error.strerror or error})") from None
    with handle:
        reader = csv.DictReader(handle)
        columns = set(reader.fieldnames or [])
        missing = [c for c in REQUIRED_COLUMNS if c not in columns]
        if missing:
            raise ManifestError(f"{path}: missing column(s) {', '.join(missing)}; a manifest needs {', '.join(REQUIRED_COLUMNS)}")
        if not columns & {"audio_path", "lyrics_path", "lyrics"}:
            raise ManifestError(f"{path}: no audio_path, lyrics_path or lyrics column: nothing to embed")
        rows: list[ManifestRow] = []
        seen: set[str] = set()
        for line, record in enumerate(reader, start=2):
            track_id = (record.get("track_id") or "").strip()
            if not track_id:
                raise ManifestError(f"{path}:{line}: empty track_id")
            if track_id in seen:
                raise ManifestError(f"{path}:{line}: track_id {track_id!r} appears twice")
            seen.add(track_id)
            audio = (record.get("audio_path") or "").strip()
            lyrics = record.get("lyrics") or None
            lyrics_path = (record.get("lyrics_path") or "").strip()
            if lyrics_path and not lyrics:
                try:
                    lyrics = lyrics_file_read(path.parent / lyrics_path)[0]
                except MLError as error:
                    logger.warning("%s:%d: %s", path, line, error)
            rows.append(
                ManifestRow(
                    track_id=track_id,
                    label=(record.get("label") or "").strip(),
                    group=(record.get("group") or "").strip(),
                    audio_path=(path.parent / audio).resolve() if audio else None,
                    lyrics=lyrics,
                )
            )
    return rows


class EmbeddingCache:
    """Vectors already computed, keyed by embedder version and item, kept in an ``.npz`` between runs.

    Scoring one set of tracks under several labels (genre, then album) or
    re-rendering a report then embeds each track once. The key is a hash of
    the version and the item (a path or a lyrics text), so a changed model
    or setting never reuses a stale vector.
    """

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.vectors: dict[str, np.ndarray] = {}
        if path is not None and path.is_file():
            with np.load(path, allow_pickle=False) as stored:
                self.vectors = {key: stored[key] for key in stored.files}

    @staticmethod
    def key(version: str, item: str) -> str:
        import hashlib

        return hashlib.sha1(f"{version}\0{item}".encode("utf-8")).hexdigest()

    def get(self, version: str, item: str) -> np.ndarray | None:
        return self.vectors.get(self.key(version, item))

    def put(self, version: str, item: str, vector: np.ndarray) -> None:
        self.vectors[self.key(version, item)] = np.asarray(vector, dtype=np.float32)

    def save(self) -> None:
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            arrays: dict[str, Any] = dict(self.vectors)
            np.savez(self.path, **arrays)


class SharedAnalysis:
    """Several pretrained audio models scored from one analysis of each file.

    One :class:`ml.audio.cnn_embedder.CnnEmbedder` holding every tagger the
    models use decodes each file once; :meth:`view` gives each model its own
    embedder whose vectors are that model's blocks of the shared vector,
    exactly as the model alone would make them (unit blocks side by side,
    scaled to unit length).
    """

    def __init__(self, models: Sequence[str], build: Callable[[str], Embedder]) -> None:
        self.models = list(models)
        parts: list[str] = []
        for model in self.models:
            taggers = taggers_parse(model)
            if taggers is None:
                raise ManifestError(f"{model!r} is not a pretrained tagger; it cannot share an analysis")
            parts.extend(t.key for t in taggers if t.key not in parts)
        self.parts = parts
        self.union = build("+".join(parts))
        self._vectors: dict[str, np.ndarray] = {}
        self._sizes = [t.vector_dim for t in taggers_parse("+".join(parts)) or []]

    def _union_vector(self, item: str) -> np.ndarray:
        if item not in self._vectors:
            self._vectors[item] = self.union.embed([item])[0]
        return self._vectors[item]

    def view(self, model: str) -> Embedder:
        wanted = [t.key for t in taggers_parse(model) or []]
        edges = np.cumsum([0, *self._sizes])
        columns = np.concatenate([np.arange(edges[self.parts.index(k)], edges[self.parts.index(k) + 1]) for k in wanted])
        analysis = self

        class _View:
            name = model
            version = analysis.union.version.replace("+".join(analysis.parts), model, 1)
            dim = int(columns.size)

            def embed(self, items: Sequence[str]) -> np.ndarray:
                return l2_normalise(np.stack([analysis._union_vector(item)[columns] for item in items]))

        return _View()


def _embed_all(embedder: Embedder, items: Sequence[str | None], cache: EmbeddingCache | None = None) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Vectors ``(n, dim)`` and a present mask ``(n,)``; failures are skipped and reported."""
    vectors = np.zeros((len(items), embedder.dim), dtype=np.float32)
    present = np.zeros(len(items), dtype=bool)
    failures: list[str] = []
    for row, item in enumerate(items):
        if item is None:
            continue
        stored = cache.get(embedder.version, item) if cache is not None else None
        if stored is not None and stored.shape == (embedder.dim,):
            vectors[row], present[row] = stored, True
            continue
        try:
            vectors[row] = embedder.embed([item])[0]
            present[row] = True
            if cache is not None:
                cache.put(embedder.version, item, vectors[row])
        except (MLError, RuntimeError, ValueError, OSError) as error:
            failures.append(f"{item}: {error}")
    return vectors, present, failures


def _standardised(vectors: np.ndarray, present: np.ndarray, kind: str = DEFAULT_WHITENING) -> np.ndarray:
    out = np.zeros_like(vectors)
    if present.any():
        out[present] = whitener_fit(vectors[present], kind=kind).apply(vectors[present])
    return out


def _similarity(modalities: Mapping[str, tuple[np.ndarray, np.ndarray]], weights: Mapping[str, float]) -> np.ndarray:
    return pair_scores(modalities, modalities, weights)


def evaluate(
    rows: Sequence[ManifestRow],
    *,
    audio_embedders: Sequence[Embedder] = (),
    lyrics_embedders: Sequence[Embedder] = (),
    baseline_embedder: Embedder | None = None,
    balance: float = 0.5,
    ks: Sequence[int] = DEFAULT_KS,
    min_words: int = 8,
    seed: int = 0,
    fusion: FusionModel | None = None,
    whitenings: Sequence[str] = WHITENINGS,
    cache: EmbeddingCache | None = None,
    learned_combination: bool = False,
) -> dict[str, Any]:
    """The report for ``rows``: a ``"methods"`` object keyed by method name, plus counts and failures.

    Hybrid rows combine the first audio and the first lyrics embedder at
    ``balance`` and over :data:`SWEEP`; ``fusion`` (a
    :class:`ml.fusion.learned.FusionModel`) adds the learned row;
    ``whitenings`` are compared in ``report["whitening"]``. With
    ``learned_combination`` and several audio embedders,
    ``report["combination"]`` compares their plain concatenation with two
    learned combinations on held-out artists (:func:`combination_held_out`).
    """
    labels = [r.label for r in rows]
    groups = [r.group for r in rows]
    methods: dict[str, Precision] = {}
    failures: dict[str, list[str]] = {}
    timings: dict[str, float] = {}
    raw: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    audio_items = [str(r.audio_path) if r.audio_path else None for r in rows]
    lyrics_items = []
    for r in rows:
        cleaned = lyrics_clean(r.lyrics) if r.lyrics else ""
        lyrics_items.append(cleaned if lyrics_word_count(cleaned) >= min_words else None)

    def run(name: str, modality: str, embedder: Embedder, items: Sequence[str | None]) -> tuple[np.ndarray, np.ndarray]:
        started = time.perf_counter()
        vectors, present, failed = _embed_all(embedder, items, cache)
        timings[name] = round(time.perf_counter() - started, 2)
        if failed:
            failures[name] = failed
        raw.setdefault(modality, (vectors, present))
        standardised = _standardised(vectors, present)
        methods[name] = neighbour_precision(_similarity({modality: (standardised, present)}, {modality: 1.0}), labels, groups, ks)
        return standardised, present

    audio_results = [run(f"audio:{e.name}", "audio", e, audio_items) for e in audio_embedders]
    lyrics_results = [run(f"lyrics:{e.name}", "lyrics", e, lyrics_items) for e in lyrics_embedders]
    if audio_results and lyrics_results:
        both = {"audio": audio_results[0], "lyrics": lyrics_results[0]}
        for weight in sorted(set(SWEEP) | {round(balance, 2)}):
            methods[f"hybrid:weighted-{weight:.2f}"] = neighbour_precision(_similarity(both, balance_weights(weight)), labels, groups, ks)
    modalities = {"audio": audio_results[0]} if audio_results else {}
    if lyrics_results:
        modalities["lyrics"] = lyrics_results[0]
    if fusion is not None and modalities:
        projected = {m: (fusion.apply(m, v) * p[:, None], p) for m, (v, p) in modalities.items() if m in fusion.projections}
        weights = balance_weights(balance) if len(projected) > 1 else {m: 1.0 for m in projected}
        methods[f"hybrid:learned-{fusion.version}"] = neighbour_precision(_similarity(projected, weights), labels, groups, ks)
    whitening: dict[str, dict[str, Precision]] = {}
    for kind in whitenings:
        kinds = {m: (_standardised(v, p, kind), p) for m, (v, p) in raw.items()}
        rows_of_kind = {m: neighbour_precision(_similarity({m: kinds[m]}, {m: 1.0}), labels, groups, ks) for m in kinds}
        if len(kinds) == 2:
            rows_of_kind[f"hybrid-{balance:.2f}"] = neighbour_precision(_similarity(kinds, balance_weights(balance)), labels, groups, ks)
        whitening[kind] = rows_of_kind
    combination = None
    if learned_combination and len(audio_results) >= 2:
        names = [e.name for e in audio_embedders]
        combination = combination_held_out(dict(zip(names, audio_results)), labels, groups, seed=seed, k=max(ks))
    if baseline_embedder is not None:
        run("baseline:mfcc", "audio", baseline_embedder, audio_items)
    has_any = np.array([a is not None or t is not None for a, t in zip(audio_items, lyrics_items)])
    random_vectors = l2_normalise(np.random.default_rng(seed).standard_normal((len(rows), 32)))
    methods["baseline:random"] = neighbour_precision(_similarity({"audio": (random_vectors, has_any)}, {"audio": 1.0}), labels, groups, ks)
    return {
        "format_version": 1,
        "counts": {
            "tracks": len(rows),
            "with_audio": sum(a is not None for a in audio_items),
            "with_lyrics": sum(t is not None for t in lyrics_items),
            "labels": len(set(labels)),
            "groups": len(set(groups)),
        },
        "ks": list(ks),
        "balance": balance,
        "methods": methods,
        "whitening": whitening,
        "embed_seconds": timings,
        "failures": failures,
        **({"combination": combination} if combination is not None else {}),
    }


#: Weights a learned combination may give each model's block.
COMBINATION_WEIGHTS = (0.0, 0.5, 1.0, 2.0)


def combination_held_out(
    blocks: Mapping[str, tuple[np.ndarray, np.ndarray]],
    labels: Sequence[str],
    groups: Sequence[str],
    *,
    folds: int = 4,
    seed: int = 0,
    k: int = 10,
    projection_epochs: int = 100,
) -> dict[str, Any]:
    """The models' concatenation against learned combinations, on held-out artists.

    ``blocks[name] = (standardised vectors (n, dim), present (n,))`` per
    model. Artists are dealt into ``folds`` folds (seeded); for each fold the
    combinations are fitted on the other folds' tracks and every method is
    scored on the fold's own tracks only (artist-filtered p@k, neighbours
    among the fold). Methods: ``concatenation`` (every block at weight 1),
    ``learned_weights`` (one weight per block from :data:`COMBINATION_WEIGHTS`,
    the best on the training folds), ``learned_projection`` (the
    concatenation through a 64-d projection trained by
    :func:`ml.fusion.learned.fusion_train`, genre-positive pairs across
    artists). Returns the per-fold and mean p@k and the chosen weights.
    """
    import itertools

    from ml.fusion.learned import FusionData, FusionModel, FusionTrainConfig, codes, fusion_train, held_out_precision

    names = list(blocks)
    present = np.logical_and.reduce([p for _, p in blocks.values()])
    scaled = {m: v / np.sqrt(v.shape[1]) for m, (v, _) in blocks.items()}

    def combined(weights: Sequence[float]) -> np.ndarray:
        return l2_normalise(np.concatenate([w * scaled[m] for w, m in zip(weights, names)], axis=1))

    # Each weighting's vectors are built when scored, not kept: with five models the grid has 1,023 of them.
    grid = [w for w in itertools.product(COMBINATION_WEIGHTS, repeat=len(names)) if any(w)]
    ones = tuple(1.0 for _ in names)
    concatenation = combined(ones)
    artists = sorted(set(groups))
    order = np.random.default_rng(seed).permutation(len(artists))
    fold_of = {artists[i]: position % folds for position, i in enumerate(order)}
    fold = np.array([fold_of[g] for g in groups])
    out: dict[str, list[Any]] = {"concatenation": [], "learned_weights": [], "learned_projection": [], "weights": []}
    for f in range(folds):
        test = np.flatnonzero((fold == f) & present)
        train = np.flatnonzero((fold != f) & present)

        def precision(v: np.ndarray, rows: np.ndarray) -> float | None:
            return held_out_precision({"audio": (v, present)}, labels, groups, rows, balance=1.0, k=k)

        best = max(grid, key=lambda w: precision(combined(w), train) or 0.0)
        out["weights"].append(dict(zip(names, best)))
        out["concatenation"].append(precision(concatenation, test))
        out["learned_weights"].append(precision(combined(best), test))
        data = FusionData(vectors={"audio": (concatenation, present)}, labels=list(labels), groups=list(groups), positives=[codes(list(labels))])
        projections = fusion_train(data, train, FusionTrainConfig(dim=64, balance=1.0, epochs=projection_epochs, seed=seed))
        out["learned_projection"].append(precision(FusionModel("held-out", projections).apply("audio", concatenation), test))
    summary: dict[str, Any] = {"blocks": names, "folds": folds, "k": k, "per_fold": out}
    for method in ("concatenation", "learned_weights", "learned_projection"):
        values = [v for v in out[method] if v is not None]
        summary[method] = round(float(np.mean(values)), 4) if values else None
    return summary


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ml.evaluate", description=__doc__.split("\n\n")[0])
    parser.add_argument("manifest", type=Path)
    parser.add_argument("--out", type=Path, required=True, help="where the JSON report goes")
    parser.add_argument("--audio-model", action="append", default=None, help=f"audio model(s) to evaluate; one of {', '.join(AUDIO_MODELS)} (repeatable)")
    parser.add_argument("--lyrics-model", action="append", default=None, help="lyrics model(s) to evaluate (repeatable)")
    parser.add_argument("--no-audio", action="store_true", help="skip audio models and the MFCC baseline")
    parser.add_argument("--no-lyrics", action="store_true", help="skip lyrics models")
    parser.add_argument("--balance", type=float, default=0.5, help="audio share of the configured hybrid weight")
    parser.add_argument("--max-seconds", type=float, default=AudioConfig().max_seconds)
    parser.add_argument("--segments", type=int, default=AudioConfig().segments, help="segments a CNN audio model samples per track; 0 = the whole track")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--ks", type=int, nargs="+", default=list(DEFAULT_KS), help="the k of p@k (a 10-track manifest needs k <= 8)")
    parser.add_argument("--fusion-model", type=Path, default=None, help="a learned fusion folder (data/models/fusion/<version>) to score too")
    parser.add_argument("--learned-combination", action="store_true", help="with several --audio-model: compare their concatenation with learned combinations on held-out artists")
    parser.add_argument("--embeddings-cache", type=Path, default=None, help="an .npz keeping computed vectors between runs (e.g. the same tracks under another label)")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(message)s")
    try:
        rows = manifest_read(args.manifest)
        has_audio = any(r.audio_path for r in rows) and not args.no_audio
        has_lyrics = any(r.lyrics for r in rows) and not args.no_lyrics
        audio_models = args.audio_model or [AudioConfig().model]
        audio: list[Embedder] = []
        if has_audio:

            def build(model: str) -> Embedder:
                return audio_embedder_build(AudioConfig(model=model, max_seconds=args.max_seconds, segments=args.segments))

            pretrained = [m for m in audio_models if taggers_parse(m) is not None]
            # Several pretrained models: one analysis of each file serves them all.
            shared = SharedAnalysis(pretrained, build) if len(pretrained) > 1 else None
            audio = [shared.view(m) if shared is not None and m in pretrained else build(m) for m in audio_models]
        lyrics = [lyrics_embedder_build(LyricsConfig(model=m)) for m in (args.lyrics_model or [LyricsConfig().model])] if has_lyrics else []
        baseline = MfccStatsEmbedder(max_seconds=args.max_seconds) if has_audio else None
        fusion = None
        if args.fusion_model is not None:
            fusion = FusionModel.load(args.fusion_model)
        cache = EmbeddingCache(args.embeddings_cache)
        report = evaluate(rows, audio_embedders=audio, lyrics_embedders=lyrics, baseline_embedder=baseline, balance=args.balance, seed=args.seed, fusion=fusion, ks=tuple(args.ks), cache=cache, learned_combination=args.learned_combination)
        cache.save()
    except MLError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    report["manifest"] = str(args.manifest)
    report["created"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2, ensure_ascii=False))
    width = max(len(name) for name in report["methods"])
    for name, scores in report["methods"].items():
        cells = "  ".join(f"{key}={value}" for key, value in scores.items())
        print(f"{name:<{width}}  {cells}")
    for kind, rows_of_kind in report["whitening"].items():
        print(f"whitening {kind}: " + "; ".join(f"{m} " + " ".join(f"{k}={v}" for k, v in r.items()) for m, r in rows_of_kind.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
