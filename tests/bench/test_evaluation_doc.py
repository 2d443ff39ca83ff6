"""The measured tables of docs/evaluation.md come from the reports, and the prose around them is kept."""
from __future__ import annotations

import json

import numpy as np

from bench.evaluation_doc import BEGIN, END, document_render, document_update, main
from ml.embedder import l2_normalise
from ml.evaluate import ManifestRow, evaluate


class _Fixed:
    """An embedder with given vectors per item (the evaluation is what is tested, not a model)."""

    def __init__(self, name: str, vectors: dict[str, np.ndarray]) -> None:
        self.name, self.version, self.vectors = name, f"{name}-v1", vectors
        self.dim = len(next(iter(vectors.values())))

    def embed(self, items):
        return np.stack([self.vectors[i] for i in items])


def _report(seed: int) -> dict:
    rng = np.random.default_rng(seed)
    rows, vectors = [], {}
    centres = rng.standard_normal((2, 8))
    for index in range(24):
        label = "ab"[index % 2]
        path = f"/music/{index}.ogg"
        vectors[path] = l2_normalise((centres[index % 2] + 0.8 * rng.standard_normal(8))[None, :])[0].astype(np.float32)
        rows.append(ManifestRow(track_id=f"t{index}", audio_path=path, lyrics=None, label=label, group=f"artist-{index // 3}"))
    return evaluate(rows, audio_embedders=[_Fixed("audio-a", vectors)], lyrics_embedders=[], ks=(5, 10), seed=seed)


def test_the_emotify_table_lists_every_method_with_both_labels():
    genre, album = _report(0), _report(1)
    block, sections = document_render({"genre": genre, "album": album}, load="1.00, 1.10, 1.20")
    assert sections == ["emotify"]
    row = next(line for line in block.splitlines() if line.startswith("| `audio:audio-a`"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    expected = [genre["methods"]["audio:audio-a"]["p@5"], genre["methods"]["audio:audio-a"]["p@10"], album["methods"]["audio:audio-a"]["p@5"], album["methods"]["audio:audio-a"]["p@10"]]
    assert cells[1:] == [f"{v:.3f}" for v in expected]
    assert "baseline:random" in block and "Load average while measuring: 1.00, 1.10, 1.20." in block
    assert block.startswith(BEGIN) and block.rstrip().endswith(END)


def test_regenerating_replaces_only_the_generated_block(tmp_path):
    doc = tmp_path / "evaluation.md"
    doc.write_text("# Audio evaluation\n\nHand-written prose.\n")
    genre = tmp_path / "genre.json"
    genre.write_text(json.dumps(_report(0)))
    assert main(["--genre", str(genre), "--doc", str(doc)])["sections"] == ["emotify"]
    first = doc.read_text()
    assert first.startswith("# Audio evaluation\n") and "Hand-written prose." in first and first.count(BEGIN) == 1
    genre.write_text(json.dumps(_report(2)))
    main(["--genre", str(genre), "--doc", str(doc)])
    second = doc.read_text()
    assert second.count(BEGIN) == second.count(END) == 1 and "Hand-written prose." in second
    assert second == document_update(first, document_render({"genre": _report(2)})[0])


def test_the_genre_head_table_has_every_fold_and_the_means_of_both_methods():
    from ml.audio.genre_head import genre_head_cross_validate

    rng = np.random.default_rng(0)
    genres = ["ab"[i % 2] for i in range(80)]
    vectors = rng.standard_normal((80, 6)).astype(np.float32)
    vectors[:, 0] += [2.0 if g == "a" else -2.0 for g in genres]
    report = genre_head_cross_validate(vectors, genres, [f"artist-{i // 2}" for i in range(80)], [f"album-{i // 2}" for i in range(80)], folds=4, alphas=(1.0,))
    report.update(tracks=80, version="base-v1")
    block, sections = document_render({"genre": _report(0), "genre_head": report})
    assert "genre_head" in sections
    table = [line for line in block.splitlines() if line.startswith("| ") and "`genre_head`" in line]
    assert len(table) == 5  # four folds and the mean
    mean = next(line for line in table if line.startswith("| **mean**"))
    assert f"{report['mean']['genre_head']['genre']['p@10']:.3f}" in mean
