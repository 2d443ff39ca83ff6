"""The lyrics part of ml.evaluate: report format for every encoder, and a cross-lingual
evaluation of our own: the same six songs written in three languages, label = song,
group = language, so the artist filter leaves only the other languages as neighbours."""
from __future__ import annotations

import csv
import json

import pytest

from ml.config import LyricsConfig
from ml.evaluate import evaluate, main, manifest_read
from ml.registry import lyrics_embedder_build
from tests.ml.text.parallel_texts import EN, FR, RU


@pytest.fixture(scope="module")
def parallel_manifest(tmp_path_factory):
    path = tmp_path_factory.mktemp("parallel") / "parallel.csv"
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["track_id", "lyrics", "label", "group"])
        for language, texts in (("en", EN), ("ru", RU), ("fr", FR)):
            for row, text in enumerate(texts):
                writer.writerow([f"{language}-{row}", text, f"song{row}", language])
        writer.writerow(["hum", "mm mm", "song0", "xx"])  # too short: counted, never embedded
    return path


def test_lyrics_only_report_names_each_encoder(parallel_manifest, tmp_path, capsys):
    out = tmp_path / "report.json"
    assert main([str(parallel_manifest), "--out", str(out), "--no-audio", "--lyrics-model", "minilm-l6", "--lyrics-model", "use-multilingual"]) == 0
    report = json.loads(out.read_text())
    assert set(report["methods"]) == {"lyrics:minilm-l6", "lyrics:use-multilingual", "baseline:random"}
    for scores in report["methods"].values():
        assert set(scores) == {"p@5", "p@10", "n"}
    assert report["counts"] == {"tracks": 19, "with_audio": 0, "with_lyrics": 18, "labels": 6, "groups": 4}
    assert set(report["embed_seconds"]) == {"lyrics:minilm-l6", "lyrics:use-multilingual"}
    assert report["methods"]["lyrics:use-multilingual"]["n"] == 18
    printed = capsys.readouterr().out
    assert "lyrics:use-multilingual" in printed and "p@5=" in printed


@pytest.fixture(scope="module")
def cross_lingual(parallel_manifest):
    rows = manifest_read(parallel_manifest)
    encoders = [lyrics_embedder_build(LyricsConfig(model=m)) for m in ("minilm-l6", "use-multilingual", "e5-small")]
    return evaluate(rows, lyrics_embedders=encoders, ks=(1, 2))["methods"]


@pytest.mark.parametrize("model", ["use-multilingual", "e5-small"])
def test_multilingual_encoders_match_songs_across_languages(cross_lingual, model):
    # Both neighbours from the other two languages are the same song.
    assert cross_lingual[f"lyrics:{model}"]["p@1"] == 1.0
    assert cross_lingual[f"lyrics:{model}"]["p@2"] >= 0.9


def test_the_english_encoder_does_not_and_random_is_the_floor(cross_lingual):
    assert cross_lingual["lyrics:minilm-l6"]["p@2"] < cross_lingual["lyrics:use-multilingual"]["p@2"]
    assert cross_lingual["baseline:random"]["p@2"] < 0.5
