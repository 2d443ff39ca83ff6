"""The multilingual encoders, loaded from their packages as in production.

The cross-lingual check uses lyrics written for these tests in English,
Russian and French with the same meaning (tests/ml/text/parallel_texts.py):
each must find its translations among all the others.
"""
from __future__ import annotations

import numpy as np
import pytest

from ml.config import LyricsConfig
from ml.registry import lyrics_embedder_build
from ml.text.multilingual import E5Encoder, UseEncoder
from ml.text.search import theme_prompt_core
from tests.ml.embedder_contract import EmbedderContract
from tests.ml.text.parallel_texts import EN, FR, RU, THEMES


@pytest.fixture(scope="module")
def use_encoder() -> UseEncoder:
    return UseEncoder()


@pytest.fixture(scope="module")
def e5_encoder() -> E5Encoder:
    return E5Encoder()


class TestUseEncoder(EmbedderContract):
    @pytest.fixture(scope="class")
    def embedder(self, use_encoder):
        return use_encoder

    @pytest.fixture(scope="class")
    def items(self):
        return [EN[0], RU[2], FR[3]]


class TestE5Encoder(EmbedderContract):
    @pytest.fixture(scope="class")
    def embedder(self, e5_encoder):
        return e5_encoder

    @pytest.fixture(scope="class")
    def items(self):
        return [EN[0], RU[2], FR[3]]


@pytest.fixture(scope="module", params=["use-multilingual", "e5-small"])
def multilingual(request, use_encoder, e5_encoder):
    return {"use-multilingual": use_encoder, "e5-small": e5_encoder}[request.param]


@pytest.mark.parametrize("source, target", [(EN, RU), (RU, EN), (EN, FR), (FR, RU)], ids=["en-ru", "ru-en", "en-fr", "fr-ru"])
def test_translations_find_each_other(multilingual, source, target):
    similarity = multilingual.embed(source) @ multilingual.embed(target).T
    assert list(similarity.argmax(axis=1)) == list(range(len(source)))
    # And by a margin: a translation is closer than the average other song.
    off_diagonal = similarity[~np.eye(len(source), dtype=bool)].mean()
    assert similarity.diagonal().mean() > off_diagonal + 0.05


def test_a_theme_prompt_finds_its_lyrics_in_any_language(multilingual):
    lyrics = multilingual.embed(EN + RU + FR)
    prompts = multilingual.embed_queries([theme_prompt_core(t) for t in THEMES])
    best = (prompts @ lyrics.T).argmax(axis=1) % len(EN)
    assert list(best) == list(range(len(THEMES)))
    # Within one language the prompt finds its lyrics among the five distractors too.
    for offset in (0, len(EN), 2 * len(EN)):
        hits = (prompts @ lyrics[offset : offset + len(EN)].T).argmax(axis=1) == np.arange(len(THEMES))
        assert hits.sum() >= len(THEMES) - 1


def test_e5_prompts_use_the_query_side(e5_encoder):
    as_query, as_passage = e5_encoder.embed_queries(["the sea"])[0], e5_encoder.embed(["the sea"])[0]
    assert float(as_query @ as_passage) < 0.9999


def test_e5_batches_equal_single_texts(e5_encoder):
    together = e5_encoder.embed([EN[1], RU[4], "short"])
    alone = np.stack([e5_encoder.embed([text])[0] for text in (EN[1], RU[4], "short")])
    np.testing.assert_allclose(together, alone, atol=1e-5)


@pytest.mark.parametrize("encoder_fixture", ["use_encoder", "e5_encoder"])
def test_long_lyrics_are_chunked_within_the_limit(request, encoder_fixture):
    encoder = request.getfixturevalue(encoder_fixture)
    filler = "\n".join(f"строка номер {i}, в которой ничего особенного не происходит" for i in range(150))
    chunks = encoder.chunks(filler + "\n" + EN[0])
    assert len(chunks) >= 3
    assert all(tokens <= encoder.chunk_tokens for _, tokens in chunks)
    assert all(encoder._count_tokens(chunk) <= encoder.chunk_tokens for chunk, _ in chunks)
    assert chunks[-1][0].endswith("the harbour fades behind us")
    one_line = encoder.chunks("слово " * 2000)
    assert len(one_line) > 1 and all(encoder._count_tokens(chunk) <= encoder.chunk_tokens for chunk, _ in one_line)


def test_the_encoder_switch_changes_model_dimension_and_version():
    built = {name: lyrics_embedder_build(LyricsConfig(model=name)) for name in ("use-multilingual", "e5-small")}
    assert isinstance(built["use-multilingual"], UseEncoder) and built["use-multilingual"].dim == 512
    assert isinstance(built["e5-small"], E5Encoder) and built["e5-small"].dim == 384
    assert built["use-multilingual"].version.startswith("use:") and built["e5-small"].version.startswith("e5:")
    assert f"chunk{built['e5-small'].chunk_tokens}" in built["e5-small"].version
    assert UseEncoder(chunk_tokens=64).version != built["use-multilingual"].version
