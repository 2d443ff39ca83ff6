from __future__ import annotations

import numpy as np
import pytest

from ml.errors import EmbedderError
from ml.text.chunking import ChunkedEncoder, chunk_vectors_pool, text_chunks


def words(text: str) -> int:
    """A tokenizer for the tests: one token per word."""
    return len(text.split())


def test_lines_are_packed_into_chunks_under_the_limit():
    text = "\n".join(f"line {i} has five words" for i in range(10))  # 5 words + 1 for the joint = 6 tokens a line
    chunks = text_chunks(text, words, 20)
    assert [count for _, count in chunks] == [18, 18, 18, 6]
    assert chunks[0][0] == "line 0 has five words / line 1 has five words / line 2 has five words"
    assert " / ".join(chunk for chunk, _ in chunks).count("line") == 10


def test_an_overlong_line_is_cut_between_words_and_nothing_is_lost():
    line = " ".join(f"w{i}" for i in range(95))
    chunks = text_chunks(line, words, 10)
    assert all(count <= 10 for _, count in chunks)
    assert " ".join(" ".join(chunk.split(" / ")) for chunk, _ in chunks).split() == line.split()


def test_uneven_tokenisation_still_fits():
    # Long words cost more tokens: the cut must adapt instead of overflowing.
    def syllables(text: str) -> int:
        return sum(max(1, len(word) // 3) for word in text.split())

    line = " ".join(["a"] * 30 + ["extraordinarily"] * 30)
    chunks = text_chunks(line, syllables, 12)
    assert all(syllables(chunk) + 1 <= 12 or len(chunk.split()) == 1 for chunk, _ in chunks)


def test_blank_text_gives_no_chunks_and_a_zero_limit_is_refused():
    assert text_chunks("\n  \n", words, 10) == []
    with pytest.raises(EmbedderError, match="at least one token"):
        text_chunks("hello", words, 0)


def test_pooling_weights_chunks_by_tokens(rng):
    vectors = rng.standard_normal((3, 4)).astype(np.float32)
    pooled = chunk_vectors_pool(np.array([0, 0, 1]), vectors, np.array([3.0, 1.0, 2.0]), 2)
    expected = 3 * vectors[0] + vectors[1]
    np.testing.assert_allclose(pooled[0], expected / np.linalg.norm(expected), atol=1e-6)
    np.testing.assert_allclose(pooled[1], vectors[2] / np.linalg.norm(vectors[2]), atol=1e-6)


class _BagOfLetters(ChunkedEncoder):
    """A tiny real encoder (letter counts) to check the base class end to end."""

    name = "letters"
    version = "letters:v1"
    dim = 26
    chunk_tokens = 8

    def __init__(self) -> None:
        self.seen: list[list[str]] = []

    def _count_tokens(self, text: str) -> int:
        return len(text.split())

    def _encode_chunks(self, texts, *, query=False):
        self.seen.append(list(texts))
        out = np.zeros((len(texts), 26), np.float32)
        for row, text in enumerate(texts):
            for char in text.lower():
                if "a" <= char <= "z":
                    out[row, ord(char) - 97] += 1
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)


def test_base_class_embeds_every_chunk_and_pools_per_item():
    encoder = _BagOfLetters()
    long_text = "\n".join(["aaa bbb ccc"] * 6)
    vectors = encoder.embed([long_text, "zzz"])
    assert vectors.shape == (2, 26) and vectors.dtype == np.float32
    assert len(encoder.seen[0]) == len(encoder.chunks(long_text)) + 1 > 2
    assert vectors[1, 25] == pytest.approx(1.0)
    assert encoder.embed([]).shape == (0, 26)
