"""The PyTorch ports of the four shipped taggers against the original TensorFlow code's outputs.

The reference ``data/tagger_reference.npz`` was made once by
``data/make_tagger_reference.py`` in a throwaway TensorFlow environment: the
``musicnn`` package's own ``define_model`` graphs (musicnn and vgg), restored
from its MTT_musicnn, MSD_musicnn, MTT_vgg and MSD_vgg checkpoints.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
import torch

from ml.audio.checkpoint import CheckpointError
from ml.audio.features import log_mel
from ml.audio.musicnn import MSD_TAGS, MTT_TAGS, MUSICNN_FRONT_END, PATCH_FRAMES, Musicnn, musicnn_state_from_checkpoint
from ml.audio.taggers import PRETRAINED
from ml.audio.vgg import Vgg, VggConfig, vgg_state_from_checkpoint

DATA = Path(__file__).parent / "data"
CHECKPOINTS = {t.checkpoint: t for t in PRETRAINED.values()}


def _reference_module():
    spec = importlib.util.spec_from_file_location("make_tagger_reference", DATA / "make_tagger_reference.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def reference():
    with np.load(DATA / "tagger_reference.npz", allow_pickle=False) as stored:
        return {key: stored[key] for key in stored.files}


@pytest.fixture(scope="module")
def models():
    try:
        return {name: tagger.load() for name, tagger in CHECKPOINTS.items()}
    except CheckpointError as error:
        pytest.skip(f"musicnn checkpoints unavailable: {error}")


@pytest.mark.parametrize("checkpoint", sorted(CHECKPOINTS))
def test_tag_probabilities_match_the_original_within_1e_4(models, reference, checkpoint):
    with torch.inference_mode():
        features, logits = models[checkpoint].features(torch.from_numpy(reference["inputs"]))
    probabilities = torch.sigmoid(logits).numpy()
    expected = reference[f"{checkpoint}/tag_probabilities"]
    assert probabilities.shape == expected.shape == (4, 50)
    np.testing.assert_allclose(probabilities, expected, atol=1e-4, rtol=0)
    np.testing.assert_allclose(features.numpy(), reference[f"{checkpoint}/penultimate"], atol=1e-3, rtol=1e-4)
    assert features.shape[1] == CHECKPOINTS[checkpoint].feature_dim


def test_the_reference_tells_the_checkpoints_apart(reference):
    # A check that could not fail if two checkpoints said the same thing: they do not.
    tags = {name: reference[f"{name}/tag_probabilities"] for name in CHECKPOINTS}
    assert np.abs(tags["MTT_musicnn"] - tags["MTT_vgg"]).max() > 0.05
    assert np.abs(tags["MSD_musicnn"] - tags["MSD_vgg"]).max() > 0.05


def test_front_end_reproduces_the_original_inputs(reference):
    maker = _reference_module()
    for index, (seed, seconds) in enumerate(zip(reference["clip_seeds"], reference["clip_seconds"])):
        clip = maker.reference_clip(int(seed), float(seconds))
        ours = log_mel(clip, MUSICNN_FRONT_END).T  # (frames, 96)
        expected = reference["inputs"][reference["patch_clip"] == index]
        for patch_index, patch in enumerate(expected):
            start = patch_index * PATCH_FRAMES
            np.testing.assert_allclose(ours[start : start + PATCH_FRAMES], patch, atol=2e-3)


@pytest.mark.parametrize("checkpoint", ["MTT_musicnn", "MSD_vgg"])
def test_end_to_end_from_audio_matches_the_original_tags(models, reference, checkpoint):
    maker = _reference_module()
    clip = maker.reference_clip(int(reference["clip_seeds"][0]), float(reference["clip_seconds"][0]))
    patch = log_mel(clip, MUSICNN_FRONT_END).T[:PATCH_FRAMES]
    with torch.inference_mode():
        probabilities = torch.sigmoid(models[checkpoint](torch.from_numpy(np.ascontiguousarray(patch))[None])).numpy()[0]
    np.testing.assert_allclose(probabilities, reference[f"{checkpoint}/tag_probabilities"][0], atol=1e-4, rtol=0)


def test_weights_from_a_wrong_checkpoint_are_refused():
    state = {"conv2d/kernel": np.zeros((3, 3, 1, 8), dtype=np.float32)}
    with pytest.raises(CheckpointError, match="does not fit|has no variable"):
        musicnn_state_from_checkpoint(state, Musicnn())
    with pytest.raises(CheckpointError, match="does not fit|has no variable"):
        vgg_state_from_checkpoint({"1CNN/kernel": np.zeros((3, 3, 1, 8), dtype=np.float32)}, Vgg())


def test_any_patch_length_pools_to_the_same_sizes(models, rng):
    with torch.inference_mode():
        for frames in (40, PATCH_FRAMES, 400):
            features, logits = models["MSD_musicnn"].features(torch.from_numpy(rng.standard_normal((2, frames, 96)).astype(np.float32)))
            assert features.shape == (2, 200) and logits.shape == (2, len(MSD_TAGS))


def test_vgg_takes_exactly_one_patch_length(models, rng):
    assert VggConfig().pooled_shape() == (2, 1) and VggConfig().feature_dim == 256
    with torch.inference_mode():
        features, logits = models["MTT_vgg"].features(torch.from_numpy(rng.standard_normal((3, PATCH_FRAMES, 96)).astype(np.float32)))
        assert features.shape == (3, 256) and logits.shape == (3, len(MTT_TAGS))
        with pytest.raises(ValueError, match="187 frames"):
            models["MTT_vgg"].features(torch.zeros((1, 100, 96)))


def test_inference_is_deterministic(models, reference):
    inputs = torch.from_numpy(reference["inputs"])
    with torch.inference_mode():
        for model in models.values():
            first, second = model.features(inputs), model.features(inputs)
            assert torch.equal(first[0], second[0]) and torch.equal(first[1], second[1])
