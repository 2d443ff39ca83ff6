"""The pretrained taggers the ``musicnn`` package ships, by the names Crossfade's settings use.

``musicnn-mtt`` / ``musicnn-msd`` are the musicnn network (Pons & Serra
2019) trained on MagnaTagATune and on the Million Song Dataset, ``vgg-mtt``
/ ``vgg-msd`` the package's VGG-like baseline on the same two sets. An audio
model name is one of them or several joined by ``+`` (``musicnn-mtt+musicnn-msd``):
every named tagger analyses the same log-mel patches, and the track vector
is their pooled features side by side.

What a tagger's vector measures and which tags it gives is known here
without loading any weights (:func:`taggers_parse`, :attr:`PretrainedTagger.vector_dim`),
so callers can size an index before a model is built.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ml.audio.segments import SegmentPlan
from ml.audio.tags import MSD_TAGS, MTT_TAGS
from ml.errors import EmbedderError

if TYPE_CHECKING:  # torch is imported only when a model is built
    from ml.audio.cnn_embedder import CnnEmbedder, PatchModel

#: Tag vocabularies, by the prefix their keys carry in a track's tags ("mtt:piano", "msd:rock").
VOCABULARIES: dict[str, tuple[str, ...]] = {"mtt": MTT_TAGS, "msd": MSD_TAGS}


@dataclass(frozen=True)
class PretrainedTagger:
    """One shipped checkpoint: its name in settings, its files, its network and its tag vocabulary."""

    key: str
    checkpoint: str
    architecture: str  # "musicnn" or "vgg"
    vocabulary: str  # a key of VOCABULARIES
    feature_dim: int  # penultimate features per patch

    @property
    def tags(self) -> tuple[str, ...]:
        return VOCABULARIES[self.vocabulary]

    @property
    def vector_dim(self) -> int:
        """Dimension of this tagger's part of a track vector: the mean and the max of its features."""
        return 2 * self.feature_dim

    def load(self, checkpoint_prefix: str | Path | None = None) -> PatchModel:
        """The network with its published weights, in eval mode."""
        if self.architecture == "musicnn":
            from ml.audio.musicnn import musicnn_load

            return musicnn_load(checkpoint_prefix, checkpoint=self.checkpoint)
        from ml.audio.vgg import vgg_load

        return vgg_load(self.checkpoint, checkpoint_prefix=checkpoint_prefix)


PRETRAINED: dict[str, PretrainedTagger] = {
    tagger.key: tagger
    for tagger in (
        PretrainedTagger("musicnn-mtt", "MTT_musicnn", "musicnn", "mtt", 200),
        PretrainedTagger("musicnn-msd", "MSD_musicnn", "musicnn", "msd", 200),
        PretrainedTagger("vgg-mtt", "MTT_vgg", "vgg", "mtt", 256),
        PretrainedTagger("vgg-msd", "MSD_vgg", "vgg", "msd", 256),
    )
}


def taggers_parse(model: str) -> list[PretrainedTagger] | None:
    """The taggers of an audio model name (``"musicnn-mtt+musicnn-msd"``), or None when it names no pretrained tagger.

    Raises :class:`EmbedderError` for a ``+`` list with an unknown or repeated part.
    """
    parts = [part.strip() for part in model.split("+")]
    if len(parts) == 1 and parts[0] not in PRETRAINED:
        return None
    unknown = [part for part in parts if part not in PRETRAINED]
    if unknown:
        raise EmbedderError(f"unknown pretrained tagger(s) {', '.join(map(repr, unknown))} in {model!r}; combine {', '.join(PRETRAINED)} with '+'")
    if len(set(parts)) != len(parts):
        raise EmbedderError(f"{model!r} names a tagger twice")
    return [PRETRAINED[part] for part in parts]


def pretrained_embedder_build(model: str, *, plan: SegmentPlan | None = None, checkpoint_prefixes: dict[str, str | Path] | None = None) -> CnnEmbedder:
    """The embedder of a pretrained audio model name (one tagger or a ``+`` combination).

    Vectors are the taggers' pooled features side by side
    (:meth:`PretrainedTagger.vector_dim` each); tags are every tagger's, keyed
    ``"<vocabulary>:<tag>"``. ``checkpoint_prefixes`` overrides where a
    tagger's checkpoint is read (keyed by tagger name; tests use it).
    Raises :class:`EmbedderError` when ``model`` names no pretrained tagger.
    """
    from ml.audio.cnn_embedder import CnnEmbedder, TaggerHead
    from ml.audio.musicnn import MUSICNN_FRONT_END, PATCH_FRAMES

    taggers = taggers_parse(model)
    if taggers is None:
        raise EmbedderError(f"{model!r} is not a pretrained tagger; choose from {', '.join(PRETRAINED)} or combine them with '+'")
    prefixes = checkpoint_prefixes or {}
    heads = [TaggerHead(t.load(prefixes.get(t.key)), feature_dim=t.feature_dim, tag_names=t.tags, vocabulary=t.vocabulary) for t in taggers]
    name = "+".join(t.key for t in taggers)
    return CnnEmbedder(heads, name=name, version=f"{name}-v1", front_end=MUSICNN_FRONT_END, patch_frames=PATCH_FRAMES, plan=plan)
