from __future__ import annotations

import numpy as np
import pytest

from ml.errors import EmbedderError
from ml.text.encoder import SentenceEncoder
from tests.ml.embedder_contract import EmbedderContract

SEA = "The harbour lights are fading\nwe sail beyond the bay\nsalt wind in the rigging\nthe sea will take us away"
CITY = "Neon on the pavement\nwe dance until the dawn\nthe city never sleeps\nthe night goes on and on"
HOME = "I left my mother's kitchen\nthe door was painted blue\nthe road goes ever westward\nI never said adieu"


@pytest.fixture(scope="session")
def encoder() -> SentenceEncoder:
    return SentenceEncoder("minilm-l6")


class TestSentenceEncoder(EmbedderContract):
    @pytest.fixture(scope="class")
    def embedder(self, encoder):
        return encoder

    @pytest.fixture(scope="class")
    def items(self):
        return [SEA, CITY, HOME]


def test_theme_query_finds_the_lyrics_written_for_it(encoder):
    vectors = encoder.embed([SEA, CITY, HOME])
    queries = encoder.embed(["songs about sailing on the ocean", "dancing all night in town", "leaving home behind"])
    assert list((queries @ vectors.T).argmax(axis=1)) == [0, 1, 2]


def test_long_lyrics_are_chunked_not_truncated(encoder):
    filler = "\n".join(f"line number {i} about nothing in particular at all today" for i in range(120))
    chunks = encoder.chunks(filler + "\n" + SEA)
    assert len(chunks) > 3
    assert all(tokens <= encoder.chunk_tokens for _, tokens in chunks)
    assert "the sea will take us away" in chunks[-1][0]
    # The tail of a long text still moves its vector: truncation would ignore it.
    with_sea, with_city = encoder.embed([filler + "\n" + SEA * 6, filler + "\n" + CITY * 6])
    assert float(with_sea @ with_city) < 0.995


def test_a_single_overlong_line_is_split(encoder):
    chunks = encoder.chunks("word " * 1000)
    assert len(chunks) >= 4 and all(tokens <= encoder.chunk_tokens for _, tokens in chunks)


def test_unknown_model_gives_a_clear_error(tmp_path):
    with pytest.raises(EmbedderError, match="cannot load"):
        SentenceEncoder(str(tmp_path / "no-such-model"))


def test_version_names_model_and_chunking(encoder):
    assert "minilm-l6" in encoder.version and f"chunk{encoder.chunk_tokens}" in encoder.version
    assert encoder.dim == 384
    assert np.isfinite(encoder.embed(["la la la"])).all()
