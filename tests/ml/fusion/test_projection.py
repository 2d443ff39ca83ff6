"""The catalogue map's layouts and the score that chooses among them."""
from __future__ import annotations

import numpy as np
import pytest

from ml.fusion.projection import ProjectionError, layout_choose, layout_score, project_2d, similarity_score


def _styles(rng, per: int = 10, styles: int = 4, dim: int = 12):
    centres = rng.standard_normal((styles, dim)) * 3
    labels = np.repeat(np.arange(styles), per)
    vectors = centres[labels] + rng.standard_normal((styles * per, dim))
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    genres = [f"genre-{label}" for label in labels]
    artists = [f"artist-{i // 2}" for i in range(len(labels))]  # two tracks per artist
    return vectors.astype(np.float32), genres, artists


def test_a_layout_of_hybrid_distances_keeps_styles_together(rng):
    vectors, genres, artists = _styles(rng)
    distances = 1.0 - vectors @ vectors.T
    layout = project_2d(distances=distances, seed=0, perplexity=5)
    assert layout.shape == (40, 2) and layout.dtype == np.float32 and layout.min() >= 0 and layout.max() <= 1
    assert layout_score(layout, genres, artists) >= 0.9
    assert np.array_equal(layout, project_2d(distances=distances, seed=0, perplexity=5))  # seeded


def test_the_score_tells_a_good_map_from_a_random_one(rng):
    vectors, genres, artists = _styles(rng)
    full = similarity_score(vectors @ vectors.T, genres, artists)
    random = layout_score(rng.random((40, 2)), genres, artists)
    assert full is not None and full > 0.9 and random is not None and random < 0.5
    assert layout_score(rng.random((40, 2)), [""] * 40, artists) is None  # nothing labelled: nothing to tell


def test_choosing_tries_each_perplexity_and_keeps_the_best(rng):
    vectors, genres, artists = _styles(rng)
    layout, perplexity, scores = layout_choose(1.0 - vectors @ vectors.T, genres, artists, perplexities=(3.0, 12.0))
    assert set(scores) == {"3", "12"} and perplexity in (3.0, 12.0)
    assert scores[f"{perplexity:g}"] == max(s for s in scores.values() if s is not None)
    assert layout_score(layout, genres, artists) == pytest.approx(scores[f"{perplexity:g}"], abs=1e-4)
    # A small catalogue caps the perplexity below a third of it, and tries it once.
    small, capped, tried = layout_choose((1.0 - vectors @ vectors.T)[:7, :7], genres[:7], artists[:7], perplexities=(5.0, 15.0, 30.0))
    assert small.shape == (7, 2) and capped == 2.0 and list(tried) == ["2"]


def test_bad_input_is_refused():
    with pytest.raises(ProjectionError, match="either"):
        project_2d()
    with pytest.raises(ProjectionError, match="square"):
        project_2d(distances=np.zeros((3, 4)))
    with pytest.raises(ProjectionError, match="NaN"):
        project_2d(np.full((5, 3), np.nan))
    assert project_2d(distances=np.zeros((1, 1))).tolist() == [[0.5, 0.5]]
    assert project_2d(distances=np.asarray([[0, 1, 2], [1, 0, 1], [2, 1, 0]], float)).shape == (3, 2)
