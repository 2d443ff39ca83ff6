"""Audio tags of both vocabularies: stored per track by reindex (and with the index version), shown on the track page, usable as catalogue filters."""
from __future__ import annotations

import pytest
from django.urls import reverse

from ml.audio.checkpoint import CheckpointError
from ml.audio.describe import TagTable
from ml.audio.musicnn import MSD_TAGS, MTT_TAGS
from ml.audio.segments import SegmentPlan
from ml.audio.taggers import pretrained_embedder_build
from playlists.catalogue import selectors
from playlists.catalogue.ingest import library_ingest
from playlists.catalogue.reindex import index_rebuild
from playlists.models import Embedding, Track

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def taggers():
    try:
        return pretrained_embedder_build("musicnn-mtt+musicnn-msd", plan=SegmentPlan(count=1, seconds=3.0))
    except CheckpointError as error:
        pytest.skip(f"musicnn checkpoints unavailable: {error}")


def test_reindex_with_tagging_embedders_stores_both_vocabularies(library, index_dir, taggers):
    library_ingest(library)
    summary = index_rebuild(embedders={"audio": taggers})
    assert summary.embedded["audio"] == 6
    keys = [f"mtt:{t}" for t in MTT_TAGS] + [f"msd:{t}" for t in MSD_TAGS]
    for track in Track.objects.exclude(audio_path=None):
        assert list(track.audio_tags) == keys
        assert 0.0 <= track.audio_vocals <= 1.0
        assert track.audio_top_tags and set(track.audio_top_tags) <= {t.lower() for t in (*MTT_TAGS, *MSD_TAGS)}
        assert [name for name, _ in track.audio_tags_by_vocabulary] == ["MagnaTagATune", "Million Song Dataset"]
    vectors = Embedding.objects.filter(modality="audio", status="ok")
    assert {row.dim for row in vectors} == {800}
    assert {row.model_version for row in vectors} == {taggers.version}
    # The serving version carries the same tags, for search by sound.
    table = TagTable.load(index_dir / summary.version)
    assert table is not None and len(table) == 6 and set(table.keys) == set(keys)


def _tag(title: str, **probabilities: float) -> Track:
    track = Track.objects.get(title=title)
    tags = {f"mtt:{tag}": 0.01 for tag in MTT_TAGS} | {f"msd:{tag}": 0.01 for tag in MSD_TAGS} | {key.replace("_", " ").replace("__", ":"): p for key, p in probabilities.items()}
    from ml.audio.tags import vocals_score

    Track.objects.filter(id=track.id).update(audio_tags=tags, audio_vocals=vocals_score(tags))
    track.refresh_from_db()
    return track


@pytest.fixture
def tagged(library, index_dir):
    library_ingest(library)
    return {
        "rock": _tag("Salt Wind", **{"mtt:guitar": 0.8, "mtt:rock": 0.6, "mtt:male vocal": 0.5, "msd:classic rock": 0.7}),
        "techno": _tag("drone", **{"mtt:techno": 0.9, "mtt:electronic": 0.7, "mtt:no vocals": 0.6, "msd:House": 0.4}),
    }


def test_top_tags_are_the_confident_ones_best_first(tagged):
    assert tagged["rock"].audio_top_tags == ["guitar", "classic rock", "rock", "male vocal"]
    assert tagged["techno"].audio_top_tags == ["techno", "electronic", "no vocals", "house"]
    assert tagged["rock"].audio_tags_by_vocabulary == [("MagnaTagATune", ["guitar", "rock", "male vocal"]), ("Million Song Dataset", ["classic rock"])]


def test_catalogue_filters_by_tag_of_either_vocabulary_and_vocals(client, user, tagged):
    assert list(selectors.track_list(tag="mtt:guitar")) == [tagged["rock"]]
    assert list(selectors.track_list(tag="mtt:no vocals")) == [tagged["techno"]]
    assert list(selectors.track_list(tag="msd:classic rock")) == [tagged["rock"]]
    assert list(selectors.track_list(tag="msd:House")) == [tagged["techno"]]
    # Lyrics settle whether a track is sung (the tagger often misses a voice); without lyrics the tagger decides.
    assert list(selectors.track_list(vocals="without")) == [tagged["techno"]]
    with_lyrics = set(Track.objects.exclude(lyrics="").exclude(language="zxx"))
    assert tagged["rock"] in with_lyrics and set(selectors.track_list(vocals="with")) == with_lyrics
    Track.objects.filter(id=tagged["techno"].id).update(audio_vocals=0.9)  # a voice heard, no lyrics known
    assert tagged["techno"] in set(selectors.track_list(vocals="with")) and list(selectors.track_list(vocals="without")) == []
    Track.objects.filter(id=tagged["techno"].id).update(audio_vocals=None)  # never tagged: nothing says it is sung
    assert list(selectors.track_list(vocals="without")) == [tagged["techno"]]
    Track.objects.filter(id=tagged["techno"].id).update(audio_vocals=tagged["techno"].audio_vocals)
    page = client.get(reverse("playlists:catalogue"), {"tag": "mtt:techno"})
    assert page.status_code == 200 and b"1 track" in page.content and b"drone" in page.content
    # The tag facet lists confident tags of each vocabulary under its data set's name.
    assert b'<optgroup label="MagnaTagATune"><option value="mtt:electronic"' in page.content
    assert b'<option value="msd:classic rock">classic rock</option>' in page.content
    page = client.get(reverse("playlists:catalogue"), {"vocals": "without"})
    assert b"drone" in page.content and b"Salt Wind" not in page.content


def test_track_page_shows_the_top_tags_of_both_vocabularies(client, user, tagged):
    page = client.get(reverse("playlists:track_detail", args=[tagged["rock"].id]))
    assert b"guitar, rock, male vocal" in page.content and b"(MagnaTagATune)" in page.content and b"no vocals)" not in page.content  # it has lyrics: sung
    assert b"classic rock" in page.content and b"(Million Song Dataset)" in page.content
    page = client.get(reverse("playlists:track_detail", args=[tagged["techno"].id]))
    assert b"(no vocals)" in page.content
    untagged = Track.objects.exclude(id__in=[t.id for t in tagged.values()]).first()
    page = client.get(reverse("playlists:track_detail", args=[untagged.id]))
    assert b"not tagged yet" in page.content
