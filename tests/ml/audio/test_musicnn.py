"""The PyTorch musicnn port against the original TensorFlow implementation's outputs.

The reference ``data/musicnn_mtt_reference.npz`` was made once by
``data/make_musicnn_reference.py`` in a throwaway TensorFlow environment.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
import torch

from ml.audio.checkpoint import CheckpointError
from ml.audio.features import log_mel
from ml.audio.musicnn import MTT_TAGS, MUSICNN_FRONT_END, PATCH_FRAMES, Musicnn, musicnn_load, musicnn_state_from_checkpoint

DATA = Path(__file__).parent / "data"


def _reference_module():
    spec = importlib.util.spec_from_file_location("make_musicnn_reference", DATA / "make_musicnn_reference.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def reference():
    with np.load(DATA / "musicnn_mtt_reference.npz", allow_pickle=False) as stored:
        return {key: stored[key] for key in stored.files}


@pytest.fixture(scope="module")
def model():
    try:
        return musicnn_load()
    except CheckpointError as error:
        pytest.skip(f"musicnn checkpoints unavailable: {error}")


def test_tag_probabilities_match_the_original_within_1e_4(model, reference):
    with torch.inference_mode():
        features, logits = model.features(torch.from_numpy(reference["inputs"]))
    probabilities = torch.sigmoid(logits).numpy()
    assert probabilities.shape == reference["tag_probabilities"].shape == (4, 50)
    np.testing.assert_allclose(probabilities, reference["tag_probabilities"], atol=1e-4, rtol=0)
    np.testing.assert_allclose(features.numpy(), reference["penultimate"], atol=1e-3, rtol=1e-4)


def test_front_end_reproduces_the_original_inputs(reference):
    maker = _reference_module()
    for index, (seed, seconds) in enumerate(zip(reference["clip_seeds"], reference["clip_seconds"])):
        clip = maker.reference_clip(int(seed), float(seconds))
        ours = log_mel(clip, MUSICNN_FRONT_END).T  # (frames, 96)
        expected = reference["inputs"][reference["patch_clip"] == index]
        for patch_index, patch in enumerate(expected):
            start = patch_index * PATCH_FRAMES
            np.testing.assert_allclose(ours[start : start + PATCH_FRAMES], patch, atol=2e-3)


def test_end_to_end_from_audio_matches_the_original_tags(model, reference):
    maker = _reference_module()
    clip = maker.reference_clip(int(reference["clip_seeds"][0]), float(reference["clip_seconds"][0]))
    patch = log_mel(clip, MUSICNN_FRONT_END).T[:PATCH_FRAMES]
    with torch.inference_mode():
        probabilities = torch.sigmoid(model(torch.from_numpy(np.ascontiguousarray(patch))[None])).numpy()[0]
    np.testing.assert_allclose(probabilities, reference["tag_probabilities"][0], atol=1e-4, rtol=0)


def test_weights_from_a_wrong_checkpoint_are_refused(model):
    state = {"conv2d/kernel": np.zeros((3, 3, 1, 8), dtype=np.float32)}
    with pytest.raises(CheckpointError, match="does not fit|has no variable"):
        musicnn_state_from_checkpoint(state, Musicnn())


def test_any_patch_length_pools_to_the_same_sizes(model, rng):
    with torch.inference_mode():
        for frames in (40, PATCH_FRAMES, 400):
            features, logits = model.features(torch.from_numpy(rng.standard_normal((2, frames, 96)).astype(np.float32)))
            assert features.shape == (2, 200) and logits.shape == (2, len(MTT_TAGS))
