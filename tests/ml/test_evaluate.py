from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile

from ml.config import LyricsConfig
from ml.evaluate import ManifestError, evaluate, main, manifest_read
from tests.support.audio_fixtures import RATE, tone


def _manifest(tmp_path, header, rows):
    path = tmp_path / "m.csv"
    path.write_text(header + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_manifest_errors_are_clear(tmp_path):
    with pytest.raises(ManifestError, match="missing column"):
        manifest_read(_manifest(tmp_path, "track_id,audio_path,label", ["a,x.ogg,rock"]))
    with pytest.raises(ManifestError, match="appears twice"):
        manifest_read(_manifest(tmp_path, "track_id,lyrics,label,group", ["a,la la,rock,g", "a,la la,rock,g"]))
    with pytest.raises(ManifestError, match="nothing to embed"):
        manifest_read(_manifest(tmp_path, "track_id,label,group", ["a,rock,g"]))
    with pytest.raises(ManifestError, match="cannot open"):
        manifest_read(tmp_path / "absent.csv")


def test_paths_are_relative_to_the_manifest_and_extra_columns_ignored(tmp_path):
    (tmp_path / "lyrics").mkdir()
    (tmp_path / "lyrics" / "a.txt").write_bytes("Привет, море".encode("cp1251"))
    rows = manifest_read(_manifest(tmp_path, "track_id,audio_path,lyrics_path,label,group,extra", ["a,audio/a.ogg,lyrics/a.txt,pop,g,zzz"]))
    assert rows[0].audio_path == (tmp_path / "audio" / "a.ogg").resolve()
    assert rows[0].lyrics == "Привет, море"


@pytest.fixture(scope="module")
def small_manifest(tmp_path_factory):
    """Eight generated tracks: two timbres x two artists each, and lyrics on two themes."""
    folder = tmp_path_factory.mktemp("eval")
    sea = "the sea is calling me\nwe sail across the ocean waves\nsalt and wind and open water\nthe harbour fades behind"
    city = "neon lights in the city\nwe dance all night downtown\nthe club is loud and crowded\nthe bass shakes the ground"
    lines = []
    for i in range(8):
        low = i % 2 == 0
        samples = tone(3.0, freq=110.0 if low else 1760.0, beat_hz=1.0 if low else 6.0, seed=i)
        soundfile.write(str(folder / f"t{i}.flac"), samples, RATE)
        lyrics = (sea if low else city).replace("\n", " / ") + f" verse {i}"
        lines.append(f"t{i},t{i}.flac,\"{lyrics}\",{'low' if low else 'high'},artist{i // 2}")
    return _manifest(folder, "track_id,audio_path,lyrics,label,group", lines)


def test_report_has_every_method_in_the_fixed_format(small_manifest, tmp_path):
    out = tmp_path / "report.json"
    assert main([str(small_manifest), "--out", str(out), "--max-seconds", "5", "--audio-model", "mfcc-stats"]) == 0
    report = json.loads(out.read_text())
    names = set(report["methods"])
    default_lyrics = f"lyrics:{LyricsConfig().model}"
    assert {"audio:mfcc-stats", default_lyrics, "baseline:mfcc", "baseline:random"} <= names
    assert {f"hybrid:weighted-{w}" for w in ("0.00", "0.25", "0.50", "0.75", "1.00")} <= names
    for scores in report["methods"].values():
        assert set(scores) == {"p@5", "p@10", "n"}
    assert report["counts"] == {"tracks": 8, "with_audio": 8, "with_lyrics": 8, "labels": 2, "groups": 4}
    # Eight tracks leave at most six neighbours after the artist filter: p@5 only.
    assert report["methods"]["audio:mfcc-stats"]["p@10"] is None
    assert report["methods"]["audio:mfcc-stats"]["p@5"] >= 0.6
    assert report["methods"][default_lyrics]["p@5"] >= 0.6


def test_hybrid_at_the_ends_of_the_sweep_equals_each_modality(small_manifest):
    from ml.audio.baseline import MfccStatsEmbedder
    from ml.text.encoder import SentenceEncoder

    report = evaluate(manifest_read(small_manifest), audio_embedders=[MfccStatsEmbedder(max_seconds=5)], lyrics_embedders=[SentenceEncoder()], ks=(3,))
    assert report["methods"]["hybrid:weighted-1.00"] == report["methods"]["audio:mfcc-stats"]
    assert report["methods"]["hybrid:weighted-0.00"] == report["methods"]["lyrics:minilm-l6"]


def test_a_broken_manifest_exits_with_a_message(tmp_path, capsys):
    assert main([str(tmp_path / "nope.csv"), "--out", str(tmp_path / "r.json")]) == 2
    assert "cannot open the manifest" in capsys.readouterr().err


def test_learned_fusion_row_and_whitening_comparison(small_manifest):
    from ml.audio.baseline import MfccStatsEmbedder
    from ml.fusion.learned import FusionModel
    from ml.text.encoder import SentenceEncoder

    audio, lyrics = MfccStatsEmbedder(max_seconds=5), SentenceEncoder()
    # Identity projections: the learned row must reproduce the weighted hybrid at the same balance.
    identity = FusionModel("identity", {"audio": np.eye(audio.dim, dtype=np.float32), "lyrics": np.eye(lyrics.dim, dtype=np.float32)})
    report = evaluate(manifest_read(small_manifest), audio_embedders=[audio], lyrics_embedders=[lyrics], ks=(3,), fusion=identity, balance=0.5)
    assert report["methods"]["hybrid:learned-identity"] == report["methods"]["hybrid:weighted-0.50"]
    assert set(report["whitening"]) == {"standardise", "whiten", "none"}
    standardise = report["whitening"]["standardise"]
    assert standardise["audio"] == report["methods"]["audio:mfcc-stats"]
    assert standardise["hybrid-0.50"] == report["methods"]["hybrid:weighted-0.50"]


def test_several_pretrained_models_share_one_analysis_and_match_their_own_vectors(small_manifest, tmp_path):
    from ml.audio.checkpoint import CheckpointError
    from ml.config import AudioConfig
    from ml.evaluate import SharedAnalysis
    from ml.registry import audio_embedder_build

    build = lambda model: audio_embedder_build(AudioConfig(model=model, segments=1))
    try:
        shared = SharedAnalysis(["musicnn-mtt", "vgg-msd", "musicnn-mtt+vgg-msd"], build)
    except CheckpointError as error:
        pytest.skip(f"musicnn checkpoints unavailable: {error}")
    path = str(small_manifest.parent / "t0.flac")
    for model in ("musicnn-mtt", "vgg-msd", "musicnn-mtt+vgg-msd"):
        view, alone = shared.view(model), build(model)
        assert view.dim == alone.dim and view.version == alone.version
        np.testing.assert_allclose(view.embed([path]), alone.embed([path]), atol=1e-5)


def test_learned_combinations_are_judged_on_held_out_artists(rng):
    from ml.evaluate import combination_held_out

    # Block "signal" separates the labels across artists; block "noise" clusters the tracks in groups that have
    # nothing to do with the labels: the concatenation is misled by it, a learned weighting drops it.
    n = 80
    labels = [str(i % 2) for i in range(n)]
    groups = [f"artist{i // 4}" for i in range(n)]
    signal = rng.standard_normal((n, 8)) + 0.8 * np.array([[1.0 if lab == "1" else -1.0] for lab in labels])
    noise = 3.0 * rng.standard_normal((6, 16))[rng.integers(0, 6, size=n)] + rng.standard_normal((n, 16))
    blocks = {name: (v / np.linalg.norm(v, axis=1, keepdims=True), np.ones(n, bool)) for name, v in (("signal", signal), ("noise", noise))}
    result = combination_held_out(blocks, labels, groups, folds=4, k=5, projection_epochs=20)
    assert result["blocks"] == ["signal", "noise"] and len(result["per_fold"]["weights"]) == 4
    assert result["learned_weights"] > result["concatenation"]
    assert all(weights["signal"] > weights["noise"] for weights in result["per_fold"]["weights"])
    assert result["learned_projection"] is not None


def test_an_embeddings_cache_serves_a_second_run(small_manifest, tmp_path):
    cache = tmp_path / "vectors.npz"
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    args = ["--max-seconds", "5", "--audio-model", "mfcc-stats", "--no-lyrics", "--embeddings-cache", str(cache)]
    assert main([str(small_manifest), "--out", str(first), *args]) == 0
    stored = np.load(cache)
    assert len(stored.files) == 8  # one vector per track of the audio model (the MFCC baseline row is not cached separately)
    assert main([str(small_manifest), "--out", str(second), *args]) == 0
    assert json.loads(first.read_text())["methods"] == json.loads(second.read_text())["methods"]
