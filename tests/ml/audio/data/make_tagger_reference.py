"""Makes ``tagger_reference.npz``: what the original musicnn code (TensorFlow) says about a few generated clips,
for each of the four checkpoints the ``musicnn`` package ships (MTT_musicnn, MSD_musicnn, MTT_vgg, MSD_vgg).

Run once, in a throwaway environment that has TensorFlow (it is never a
Crossfade dependency; tensorflow-cpu 2.21 runs the package's TF1 graph code
through ``tf.compat.v1``)::

    python3.11 -m venv /tmp/tfenv
    /tmp/tfenv/bin/pip install tensorflow-cpu==2.21.0 librosa==0.11.0 tf-keras
    /tmp/tfenv/bin/pip install --no-deps musicnn==0.1.0
    TF_USE_LEGACY_KERAS=1 /tmp/tfenv/bin/python tests/ml/audio/data/make_tagger_reference.py

The clips are synthesised by :func:`reference_clips` (numpy only, seeded), so
the regression test regenerates them instead of storing audio. The input
patches follow ``musicnn.extractor.batch_data``: librosa mel power at 16 kHz
(FFT 512, hop 256, 96 bands), stored as float16, then ``log10(10000·x + 1)``
computed in float32 (what NumPy 1.x, current when musicnn was published, did
with a float16 array times a Python int; NumPy 2 would stay in float16 and
overflow), cut into non-overlapping 187-frame patches. The network is the
package's own ``musicnn.models.define_model`` restored from its MTT_musicnn
checkpoint, run in TF1 graph mode with ``is_training=False``; each
model is built in a fresh graph, exactly as ``musicnn.extractor.extractor``
does. Stored per model: the tag probabilities and the penultimate features
(musicnn: ``penultimate``, the batch-normalised dense-200 output; vgg: the
flattened ``pool5``, the classifier's input, in TF's NHWC order).
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

SAMPLE_RATE = 16000
PATCH_FRAMES = 187
OUT = Path(__file__).with_name("tagger_reference.npz")
MODELS = ("MTT_musicnn", "MSD_musicnn", "MTT_vgg", "MSD_vgg")
# (seed, seconds) of each clip: two 3 s clips (one patch each) and a 6 s one (two patches).
CLIPS: tuple[tuple[int, float], ...] = ((11, 3.0), (22, 3.0), (33, 6.0))


def reference_clip(seed: int, seconds: float) -> np.ndarray:
    """A seeded synthetic music-like clip at 16 kHz: float32 ``(n,)`` in [-1, 1].

    A decaying harmonic melody over a bass line, with noise-burst percussion;
    the seed picks the notes, tempo and mix, so the clips differ in timbre
    and rhythm.
    """
    rng = np.random.default_rng(seed)
    n = int(seconds * SAMPLE_RATE)
    t = np.arange(n) / SAMPLE_RATE
    signal = np.zeros(n)
    beat = 60.0 / rng.uniform(80, 160)
    root = rng.uniform(110, 220)
    for start in np.arange(0.0, seconds, beat / 2):
        i0 = int(start * SAMPLE_RATE)
        span = t[i0:] - start
        freq = root * 2 ** (rng.integers(0, 12) / 12) * rng.choice([1, 2])
        harmonics = sum((0.6 ** h) * np.sin(2 * np.pi * freq * (h + 1) * span) for h in range(rng.integers(1, 6)))
        signal[i0:] += rng.uniform(0.05, 0.2) * np.exp(-span * rng.uniform(2, 8)) * harmonics
        if rng.random() < 0.6:
            signal[i0:] += rng.uniform(0.05, 0.4) * np.exp(-span * 30) * rng.standard_normal(n - i0)
    signal += rng.uniform(0.05, 0.2) * np.sin(2 * np.pi * root / 2 * t)
    return np.clip(signal / max(1.0, np.abs(signal).max()), -1, 1).astype(np.float32)


def reference_patches(clip: np.ndarray) -> np.ndarray:
    """musicnn's input patches of ``clip``: float32 ``(n_patches, 187, 96)``."""
    import librosa

    mel = librosa.feature.melspectrogram(y=clip, sr=SAMPLE_RATE, hop_length=256, n_fft=512, n_mels=96).T
    mel = mel.astype(np.float16)
    log_mel = np.log10(10000.0 * mel.astype(np.float32) + 1.0)
    starts = range(0, log_mel.shape[0] - PATCH_FRAMES + 1, PATCH_FRAMES)
    return np.stack([log_mel[s : s + PATCH_FRAMES] for s in starts]).astype(np.float32)


def model_outputs(model: str, inputs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Tag probabilities ``(n, 50)`` and penultimate features of ``inputs`` ``(n, 187, 96)`` from the package's own graph."""
    import musicnn
    import tensorflow as tf
    from musicnn import models

    graph = tf.Graph()
    with graph.as_default():
        with tf.name_scope("model"):
            x = tf.compat.v1.placeholder(tf.float32, [None, PATCH_FRAMES, 96])
            is_training = tf.compat.v1.placeholder(tf.bool)
            outputs = models.define_model(x, is_training, model, 50)
            logits, penultimate = outputs[0], outputs[-1]  # vgg: pool5; musicnn: penultimate
            probabilities = tf.nn.sigmoid(logits)
        with tf.compat.v1.Session(graph=graph) as session:
            tf.compat.v1.train.Saver().restore(session, str(Path(musicnn.__file__).parent / model) + "/")
            tags, features = session.run([probabilities, penultimate], feed_dict={x: inputs, is_training: False})
    return tags.astype(np.float32), features.reshape(len(inputs), -1).astype(np.float32)


def main() -> int:
    import tensorflow as tf

    tf.compat.v1.disable_eager_execution()
    patches, owners = [], []
    for index, (seed, seconds) in enumerate(CLIPS):
        clip_patches = reference_patches(reference_clip(seed, seconds))
        patches.append(clip_patches)
        owners.extend([index] * len(clip_patches))
    inputs = np.concatenate(patches)
    stored: dict[str, np.ndarray] = {}
    for model in MODELS:
        tags, features = model_outputs(model, inputs)
        stored[f"{model}/tag_probabilities"] = tags
        stored[f"{model}/penultimate"] = features
    np.savez_compressed(
        OUT,
        clip_seeds=np.array([seed for seed, _ in CLIPS], dtype=np.int64),
        clip_seconds=np.array([seconds for _, seconds in CLIPS], dtype=np.float64),
        patch_clip=np.array(owners, dtype=np.int64),
        inputs=inputs,
        tensorflow_version=np.array(tf.__version__),
        **stored,
    )
    print(f"wrote {OUT}: {inputs.shape[0]} patches x {len(MODELS)} models, TF {tf.__version__}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
