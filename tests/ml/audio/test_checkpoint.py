"""The numpy reader of TensorFlow checkpoints, on the published musicnn files and on broken copies."""
from __future__ import annotations

import shutil

import numpy as np
import pytest

from ml.audio.checkpoint import CheckpointError, checkpoint_read
from ml.audio.musicnn import musicnn_checkpoint_dir


@pytest.fixture(scope="module")
def mtt_folder():
    try:
        return musicnn_checkpoint_dir("MTT_musicnn")
    except CheckpointError as error:
        pytest.skip(f"musicnn checkpoints unavailable: {error}")


@pytest.fixture(scope="module")
def mtt_variables(mtt_folder):
    return checkpoint_read(str(mtt_folder) + "/")


def test_reads_every_variable_with_its_shape(mtt_variables):
    # 150 variables: weights, batch-norm statistics and their Adam slots, two Adam powers.
    assert len(mtt_variables) == 150
    assert mtt_variables["conv2d/kernel"].shape == (7, 38, 1, 204)
    assert mtt_variables["conv2d_1/kernel"].shape == (7, 67, 1, 204)
    assert mtt_variables["conv2d_2/kernel"].shape == (128, 1, 1, 51)
    assert mtt_variables["conv2d_5/kernel"].shape == (7, 561, 1, 64)
    assert mtt_variables["dense/kernel"].shape == (1506, 200)
    assert mtt_variables["dense_1/kernel"].shape == (200, 50)
    assert mtt_variables["beta1_power"].shape == ()
    assert all(array.dtype == np.float32 for array in mtt_variables.values())


def test_values_are_trained_weights_not_noise(mtt_variables):
    variances = mtt_variables["batch_normalization_9/moving_variance"]
    assert np.all(np.isfinite(variances)) and np.all(variances > 0)
    # Adam's beta1 power is 0.9 ** steps: strictly between 0 and 0.9 after training.
    assert 0.0 <= float(mtt_variables["beta1_power"]) < 0.9
    kernel = mtt_variables["conv2d/kernel"]
    assert 1e-4 < float(np.abs(kernel).mean()) < 10.0
    # The slots are not copies of the weights they belong to.
    assert not np.allclose(mtt_variables["conv2d/kernel/Adam"], kernel)


def test_every_musicnn_checkpoint_reads(mtt_folder):
    for name in ("MTT_musicnn", "MSD_musicnn", "MTT_vgg", "MSD_vgg"):
        folder = mtt_folder.parent / name
        if not (folder / ".index").is_file():
            continue
        variables = checkpoint_read(str(folder) + "/")
        assert variables and all(np.all(np.isfinite(v)) for v in variables.values() if v.dtype.kind == "f")


def _copy(mtt_folder, tmp_path):
    target = tmp_path / "ckpt"
    target.mkdir()
    for name in (".index", ".data-00000-of-00001"):
        shutil.copy(mtt_folder / name, target / name)
    return target


def test_a_missing_data_file_is_named(mtt_folder, tmp_path):
    folder = _copy(mtt_folder, tmp_path)
    (folder / ".data-00000-of-00001").unlink()
    with pytest.raises(CheckpointError, match="data-00000-of-00001: no such checkpoint file"):
        checkpoint_read(str(folder) + "/")


def test_a_truncated_data_file_is_reported(mtt_folder, tmp_path):
    folder = _copy(mtt_folder, tmp_path)
    data = folder / ".data-00000-of-00001"
    data.write_bytes(data.read_bytes()[: 1_000_000])
    with pytest.raises(CheckpointError, match="truncated"):
        checkpoint_read(str(folder) + "/")


def test_a_file_that_is_not_an_index_is_rejected(mtt_folder, tmp_path):
    folder = _copy(mtt_folder, tmp_path)
    (folder / ".index").write_bytes(np.random.default_rng(3).bytes(4096))
    with pytest.raises(CheckpointError, match="magic"):
        checkpoint_read(str(folder) + "/")


def test_a_truncated_index_is_rejected(mtt_folder, tmp_path):
    folder = _copy(mtt_folder, tmp_path)
    (folder / ".index").write_bytes((folder / ".index").read_bytes()[:20])
    with pytest.raises(CheckpointError):
        checkpoint_read(str(folder) + "/")
