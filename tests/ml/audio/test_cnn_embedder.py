"""The pretrained CNN embedders: the embedder contract, pooling, tags, combinations, edge-case audio."""
from __future__ import annotations

import numpy as np
import pytest
import soundfile

from ml.audio.checkpoint import CheckpointError
from ml.audio.cnn_embedder import features_pool, patches_cut
from ml.audio.musicnn import MSD_TAGS, MTT_TAGS
from ml.audio.segments import SegmentPlan
from ml.audio.taggers import PRETRAINED, pretrained_embedder_build, taggers_parse
from ml.audio.tags import vocals_score
from ml.config import AudioConfig
from ml.errors import AudioDecodeError, EmbedderError
from ml.registry import audio_embedder_build, audio_embedder_dim
from tests.ml.embedder_contract import EmbedderContract
from tests.support.audio_fixtures import RATE, tone


@pytest.fixture(scope="module")
def musicnn_embedder():
    try:
        return pretrained_embedder_build("musicnn-mtt", plan=SegmentPlan(count=2, seconds=3.0))
    except CheckpointError as error:
        pytest.skip(f"musicnn checkpoints unavailable: {error}")


class TestMusicnnEmbedder(EmbedderContract):
    @pytest.fixture(scope="class")
    def embedder(self, musicnn_embedder):
        return musicnn_embedder

    @pytest.fixture(scope="class")
    def items(self, tmp_path_factory):
        folder = tmp_path_factory.mktemp("musicnn")
        paths = []
        for i, (freq, beat) in enumerate([(110, 1.0), (440, 3.0), (1760, 6.0)]):
            path = folder / f"t{i}.ogg"
            soundfile.write(str(path), tone(8.0, freq=freq, beat_hz=beat, seed=i), RATE)
            paths.append(str(path))
        return paths


def test_patches_cut_drops_or_repeat_pads(rng):
    spectrogram = rng.standard_normal((430, 96)).astype(np.float32)  # two patches and 56 frames
    assert patches_cut(spectrogram, 187).shape == (2, 187, 96)
    assert patches_cut(spectrogram, 187, keep_partial=True).shape == (3, 187, 96)
    short = patches_cut(spectrogram[:50], 187)
    assert short.shape == (1, 187, 96)
    np.testing.assert_array_equal(short[0, 50:100], spectrogram[:50])


def test_pooling_is_mean_then_max(rng):
    features = rng.standard_normal((5, 200)).astype(np.float32)
    pooled = features_pool(features)
    assert pooled.shape == (400,)
    np.testing.assert_allclose(pooled[:200], features.mean(axis=0), rtol=1e-6)
    np.testing.assert_array_equal(pooled[200:], features.max(axis=0))
    # One patch: mean and max agree.
    np.testing.assert_array_equal(features_pool(features[:1])[:200], features_pool(features[:1])[200:])


def test_registry_builds_it_with_the_configured_sampling():
    embedder = audio_embedder_build(AudioConfig(model="musicnn-mtt", segments=6, segment_seconds=3.0))
    assert embedder.name == "musicnn-mtt" and embedder.dim == 400
    assert embedder.version.endswith("6x3s")
    whole = audio_embedder_build(AudioConfig(model="musicnn-mtt", segments=0))
    assert whole.version != embedder.version


def test_tags_come_with_the_vectors(musicnn_embedder, tmp_path):
    path = tmp_path / "noise.flac"
    soundfile.write(str(path), (0.3 * np.random.default_rng(5).standard_normal(RATE * 7)).astype(np.float32), RATE)
    vectors, tags = musicnn_embedder.embed_with_tags([str(path)])
    assert vectors.shape == (1, 400)
    assert list(tags[0]) == [f"mtt:{tag}" for tag in MTT_TAGS]
    assert all(0.0 <= p <= 1.0 for p in tags[0].values())
    np.testing.assert_allclose(vectors, musicnn_embedder.embed([str(path)]), atol=1e-6)


@pytest.mark.parametrize("name", ["silence.wav", "short.wav", "stereo_44k.flac", "mono_48k.ogg", "tone.mp3", "tone.m4a", "truncated.mp3"])
def test_edge_case_audio_embeds_to_finite_unit_vectors(musicnn_embedder, edge_audio, name):
    vectors, tags = musicnn_embedder.embed_with_tags([str(edge_audio[name])])
    assert np.all(np.isfinite(vectors)) and np.linalg.norm(vectors[0]) == pytest.approx(1.0, abs=1e-5)
    assert all(np.isfinite(p) for p in tags[0].values())


def test_bad_files_raise_decode_errors(musicnn_embedder, edge_audio):
    for name in ("not_audio.mp3", "empty.flac"):
        with pytest.raises(AudioDecodeError):
            musicnn_embedder.embed([str(edge_audio[name])])


def test_vocals_score_weighs_the_strongest_tag_of_each_side():
    assert vocals_score({"mtt:male vocal": 0.6, "mtt:no vocals": 0.2}) == pytest.approx(0.75)
    assert vocals_score({"mtt:vocal": 0.05, "mtt:no voice": 0.45}) == pytest.approx(0.1)
    assert vocals_score({"msd:female vocalists": 0.3, "msd:instrumental": 0.1}) == pytest.approx(0.75)
    assert vocals_score({}) is None


@pytest.fixture(scope="module")
def combined():
    try:
        return pretrained_embedder_build("musicnn-mtt+musicnn-msd", plan=SegmentPlan(count=2, seconds=3.0))
    except CheckpointError as error:
        pytest.skip(f"musicnn checkpoints unavailable: {error}")


def test_a_combination_puts_each_taggers_vector_side_by_side(combined, musicnn_embedder, tmp_path):
    path = tmp_path / "tone.ogg"
    soundfile.write(str(path), tone(9.0, freq=330, beat_hz=2.0, seed=3), RATE)
    vectors, tags = combined.embed_with_tags([str(path)])
    assert vectors.shape == (1, 800) and combined.dim == audio_embedder_dim(AudioConfig(model="musicnn-mtt+musicnn-msd"))
    assert np.linalg.norm(vectors[0]) == pytest.approx(1.0, abs=1e-5)
    # Each half is one tagger's unit-length block (scaled by 1/sqrt(2)); the first is musicnn-mtt's own vector.
    np.testing.assert_allclose(vectors[0, :400] * np.sqrt(2), musicnn_embedder.embed([str(path)])[0], atol=1e-5)
    assert np.linalg.norm(vectors[0, 400:]) == pytest.approx(1 / np.sqrt(2), abs=1e-5)
    assert set(tags[0]) == {f"mtt:{t}" for t in MTT_TAGS} | {f"msd:{t}" for t in MSD_TAGS}
    assert combined.version == "musicnn-mtt+musicnn-msd-v1-2x3s"
    np.testing.assert_array_equal(vectors, combined.embed([str(path)]))  # deterministic


@pytest.mark.parametrize("model", sorted(PRETRAINED))
def test_every_pretrained_tagger_has_a_known_dimension(model):
    (tagger,) = taggers_parse(model)
    assert audio_embedder_dim(AudioConfig(model=model)) == tagger.vector_dim == 2 * tagger.feature_dim


def test_unknown_or_repeated_taggers_are_refused():
    assert taggers_parse("mfcc-stats") is None
    with pytest.raises(EmbedderError, match="unknown pretrained tagger"):
        taggers_parse("musicnn-mtt+musicnn-xyz")
    with pytest.raises(EmbedderError, match="twice"):
        taggers_parse("musicnn-mtt+musicnn-mtt")
    with pytest.raises(EmbedderError, match="unknown audio model"):
        audio_embedder_dim(AudioConfig(model="nonsense"))
