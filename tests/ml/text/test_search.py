"""Search by theme against a real hybrid index of lyrics written for the tests."""
from __future__ import annotations

import numpy as np
import pytest

from ml.errors import IndexMismatchError
from ml.fusion.hybrid import HybridIndex
from ml.text.encoder import SentenceEncoder
from ml.text.multilingual import UseEncoder
from ml.text.search import ThemeQueryError, lyrics_search, theme_prompt_core
from tests.ml.text.parallel_texts import EN, FR, RU, THEMES

# Distractors: lyrics about other things, so a theme has more than its own songs to choose from.
DISTRACTORS = [
    "Money in my pocket, diamonds on my wrist\nthe car is fast and the deal is sealed",
    "Mon chat dort sur le canapé\nil rêve de souris et de lait",
    "Компьютер завис, и я опять без интернета\nпароль забыт, и нет ответа",
    "Tick tock goes the clock in the office\nspreadsheets and coffee until five",
]


@pytest.fixture(scope="module")
def use_encoder() -> UseEncoder:
    return UseEncoder()


def _index(encoder, texts: list[str], ids: list[int]) -> HybridIndex:
    vectors = encoder.embed(texts)
    return HybridIndex.build({"lyrics": (np.asarray(ids, np.int64), vectors)}, {"lyrics": encoder.version})


@pytest.fixture(scope="module")
def multilingual_index(use_encoder):
    texts = EN + RU + FR + DISTRACTORS
    # Track ids: 100+row for English, 200+row Russian, 300+row French, 900+ distractors.
    ids = [100 + i for i in range(6)] + [200 + i for i in range(6)] + [300 + i for i in range(6)] + [900 + i for i in range(len(DISTRACTORS))]
    return _index(use_encoder, texts, ids)


@pytest.mark.parametrize(
    "prompt, core",
    [
        ("songs about leaving home", "leaving home"),
        ("  Песни   о море ", "море"),
        ("chansons sur la pluie", "la pluie"),
        ("canciones sobre el mar", "el mar"),
        ("Lieder über den Krieg", "den Krieg"),
        ("leaving home", "leaving home"),
        ("songs about", "songs about"),
    ],
)
def test_framing_words_are_dropped(prompt, core):
    assert theme_prompt_core(prompt) == core


@pytest.mark.parametrize("row, prompt", list(enumerate(THEMES)))
def test_each_theme_finds_its_lyrics_in_three_languages_among_distractors(multilingual_index, use_encoder, row, prompt):
    ids, scores = lyrics_search(multilingual_index, use_encoder, prompt, k=6)
    assert ids.dtype == np.int64 and scores.dtype == np.float32 and list(scores) == sorted(scores, reverse=True)
    assert ids[0] % 100 == row and ids[0] < 900
    # The same song in all three languages is in the top six of 22.
    assert {100 + row, 200 + row, 300 + row} <= set(int(i) for i in ids)


def test_a_russian_prompt_finds_english_and_french_lyrics(multilingual_index, use_encoder):
    ids, _ = lyrics_search(multilingual_index, use_encoder, "песни о войне и солдатах", k=6)
    assert {105, 305} <= set(int(i) for i in ids[:4])


def test_exclude_and_k(multilingual_index, use_encoder):
    everything, _ = lyrics_search(multilingual_index, use_encoder, "the sea", k=100)
    assert len(everything) == len(EN) * 3 + len(DISTRACTORS)
    best = int(everything[0])
    ids, _ = lyrics_search(multilingual_index, use_encoder, "the sea", k=5, exclude=[best])
    assert len(ids) == 5 and best not in ids
    assert lyrics_search(multilingual_index, use_encoder, "the sea", k=0)[0].size == 0


def test_english_only_encoder_still_finds_english_lyrics():
    encoder = SentenceEncoder("minilm-l6")
    index = _index(encoder, EN + DISTRACTORS, list(range(len(EN) + len(DISTRACTORS))))
    for row, prompt in enumerate(["songs about sailing the sea", "songs about leaving home", "songs about war"]):
        ids, _ = lyrics_search(index, encoder, prompt, k=1)
        assert int(ids[0]) == [0, 1, 5][row]


@pytest.mark.parametrize("prompt, message", [("", "type a theme"), ("   ", "type a theme"), ("x" * 501, "at most 500")])
def test_bad_prompts_are_refused(multilingual_index, use_encoder, prompt, message):
    with pytest.raises(ThemeQueryError, match=message):
        lyrics_search(multilingual_index, use_encoder, prompt, k=5)


def test_an_index_from_another_encoder_is_refused(multilingual_index):
    other = UseEncoder(chunk_tokens=64)
    with pytest.raises(IndexMismatchError, match="run `manage.py reindex`"):
        lyrics_search(multilingual_index, other, "the sea", k=5)


def test_an_index_without_lyrics_gives_nothing(use_encoder, rng):
    audio_only = HybridIndex.build({"audio": (np.arange(5, dtype=np.int64), rng.standard_normal((5, 8)))}, {"audio": "test"})
    ids, scores = lyrics_search(audio_only, use_encoder, "the sea", k=5)
    assert ids.size == 0 and scores.size == 0


def test_a_large_index_searches_themes_through_its_candidates(use_encoder, rng):
    # The million-track configuration scaled down: the themed lyrics among 3,000 other tracks
    # (noise lyrics, some with audio), fused fast-scan candidates, exact lyrics cosines.
    texts = EN + RU + FR + DISTRACTORS
    themed = use_encoder.embed(texts)
    noise = rng.standard_normal((3000, themed.shape[1])).astype(np.float32)
    ids = np.concatenate([np.arange(len(texts)), 1000 + np.arange(3000)]).astype(np.int64)
    lyrics = (ids, np.vstack([themed, noise]))
    audio = (ids[::3], rng.standard_normal((ids[::3].size, 16)).astype(np.float32))
    names = {"lyrics": use_encoder.version, "audio": "a"}
    large = HybridIndex.build({"lyrics": lyrics, "audio": audio}, names, backend="ivf", overrides={"nlist": 16, "nprobe": 4, "codec": "PQfs", "oversample": 3})
    exact = HybridIndex.build({"lyrics": lyrics, "audio": audio}, names, backend="flat")
    assert large.fused is not None and exact.fused is None
    for prompt in ("songs about the sea", "песни о войне", "chansons sur le départ"):
        found, scores = lyrics_search(large, use_encoder, prompt, k=6, exclude=[0])
        truth, truth_scores = lyrics_search(exact, use_encoder, prompt, k=200, exclude=[0])
        # 4 of 16 lists over unclustered noise: the best match is found, and at most one of the six is missed.
        assert found[0] == truth[0] and len(set(found.tolist()) & set(truth[:6].tolist())) >= 5 and 0 not in found
        exact_score = dict(zip(truth.tolist(), truth_scores.tolist()))
        np.testing.assert_allclose(scores, [exact_score[int(i)] for i in found], atol=1e-5)  # scores are exact cosines
