"""The measured tables of docs/evaluation.md come from the reports, and the prose around them is kept."""
from __future__ import annotations

import json

import numpy as np
import pytest

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


def test_an_album_report_without_its_genre_report_is_refused_and_the_document_left_alone(tmp_path, capsys):
    doc = tmp_path / "evaluation.md"
    doc.write_text("# Audio evaluation\n")
    album = tmp_path / "album.json"
    album.write_text(json.dumps(_report(1)))
    with pytest.raises(SystemExit) as exit_info:
        main(["--album", str(album), "--doc", str(doc)])
    assert exit_info.value.code == 2 and "--album needs --genre" in capsys.readouterr().err
    assert doc.read_text() == "# Audio evaluation\n"


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


def _fine_tune_report(seed: int) -> dict:
    """A bench.audio_trained report: the held-out rows scored by ``evaluate`` (fixed vectors), the run's own figures as it writes them."""
    rng = np.random.default_rng(seed)
    rows, base, tuned = [], {}, {}
    centres = rng.standard_normal((2, 8))
    for index in range(24):
        path = f"/music/{index}.ogg"
        base[path] = l2_normalise((centres[index % 2] + 1.2 * rng.standard_normal(8))[None, :])[0].astype(np.float32)
        tuned[path] = l2_normalise((centres[index % 2] + 0.4 * rng.standard_normal(8))[None, :])[0].astype(np.float32)
        rows.append(ManifestRow(track_id=f"t{index}", audio_path=path, lyrics=None, label="ab"[index % 2], group=f"artist-{index // 3}"))
    embedders = [_Fixed("musicnn-mtt", base), _Fixed("fine-tuned", tuned)]
    albums = [ManifestRow(track_id=r.track_id, audio_path=r.audio_path, lyrics=None, label=f"album-{i // 2}", group=r.group) for i, r in enumerate(rows)]
    return {
        "base": "musicnn-mtt",
        "seed": seed,
        "test_tracks": 24,
        "test_artists": 8,
        "methods": evaluate(rows, audio_embedders=embedders, lyrics_embedders=[], ks=(5, 10), seed=seed)["methods"],
        "album_methods": evaluate(albums, audio_embedders=embedders, lyrics_embedders=[], ks=(5, 10), seed=seed)["methods"],
        "fine_tune": {
            "seconds": 812.4, "front_end_cache_seconds": 301.2, "epoch_seconds": [40.1, 39.8], "epochs": 30, "epochs_run": 2, "best_epoch": 1,
            "train_tracks": 180, "validation_tracks": 40, "test_tracks": 50,
            "decision": {"serve": False, "reason": "fine-tuned 0.6000 <= pretrained 0.6100 (genre p@10, held-out artists): kept off"},
        },
        "score_seconds": 95.0,
        "load_average_before": [1.5, 1.6, 1.7],
        "load_average_after": [2.5, 2.6, 2.7],
    }


def test_the_fine_tune_table_has_every_method_by_genre_and_album_and_the_decision():
    report = _fine_tune_report(0)
    block, sections = document_render({"fine_tune": [report]})
    assert sections == ["fine_tune"]
    for name in ("audio:musicnn-mtt", "audio:fine-tuned", "baseline:random"):
        row = next(line for line in block.splitlines() if line.startswith(f"| `musicnn-mtt` | 24 (8) | 2 / 30 | `{name}` |"))
        cells = [c.strip() for c in row.strip("|").split("|")]
        genre, album = report["methods"][name], report["album_methods"][name]
        assert cells[4:] == [f"{v:.3f}" for v in (genre["p@5"], genre["p@10"], album["p@5"], album["p@10"])]
    assert "`musicnn-mtt`, 30 epochs asked, seed 0: **not served**" in block and "kept off" in block
    assert "2 of 30 epochs (best epoch 1)" in block and "812.4 s" in block and "[1.5, 1.6, 1.7] before" in block


def test_a_section_whose_report_is_not_given_is_kept_as_the_document_has_it(tmp_path):
    from ml.audio.genre_head import genre_head_cross_validate

    rng = np.random.default_rng(3)
    genres = ["ab"[i % 2] for i in range(40)]
    vectors = rng.standard_normal((40, 6)).astype(np.float32)
    head = genre_head_cross_validate(vectors, genres, [f"artist-{i // 2}" for i in range(40)], None, folds=4, alphas=(1.0,))
    head.update(tracks=40, version="base-v1")
    doc = tmp_path / "evaluation.md"
    doc.write_text("# Audio evaluation\n\nProse.\n")
    reports = {name: tmp_path / f"{name}.json" for name in ("genre", "head", "tuned", "genre2")}
    reports["genre"].write_text(json.dumps(_report(0)))
    reports["head"].write_text(json.dumps(head))
    reports["tuned"].write_text(json.dumps(_fine_tune_report(1)))
    main(["--genre", str(reports["genre"]), "--genre-head", str(reports["head"]), "--fine-tune", str(reports["tuned"]), "--doc", str(doc), "--load", "0.5, 0.6, 0.7"])
    first = doc.read_text()
    reports["genre2"].write_text(json.dumps(_report(2)))
    result = main(["--genre", str(reports["genre2"]), "--doc", str(doc)])
    assert result["sections"] == ["emotify"] and result["kept"] == ["genre_head", "fine_tune", "load"]
    second = doc.read_text()
    before, after = (text.partition(BEGIN)[2].partition(END)[0] for text in (first, second))
    kept = lambda block: block[block.index("### Genre head") :]  # noqa: E731 - the genre head, fine-tune and load parts, in order
    assert kept(before) == kept(after) and "Load average while measuring: 0.5, 0.6, 0.7." in after
    assert before[: before.index("### Genre head")] != after[: after.index("### Genre head")]
    assert after[: after.index("### Genre head")] == document_render({"genre": _report(2)})[0].partition(END)[0][len(BEGIN) :]


def test_the_current_document_is_unchanged_when_no_report_is_given():
    from bench.evaluation_doc import ROOT, sections_split

    text = (ROOT / "docs" / "evaluation.md").read_text()
    existing = sections_split(text)
    assert {"emotify", "genre_head", "sampling", "load"} <= set(existing)
    block, sections = document_render({}, existing=existing)
    assert sections == [] and document_update(text, block) == text
