"""Audio tags: stored per track by reindex, shown on the track page, usable as catalogue filters."""
from __future__ import annotations

import pytest
from django.urls import reverse

from ml.audio.checkpoint import CheckpointError
from ml.audio.cnn_embedder import musicnn_embedder_build
from ml.audio.musicnn import MTT_TAGS
from ml.audio.segments import SegmentPlan
from playlists.catalogue import selectors
from playlists.catalogue.ingest import library_ingest
from playlists.catalogue.reindex import index_rebuild
from playlists.models import Embedding, Track

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def musicnn():
    try:
        return musicnn_embedder_build(plan=SegmentPlan(count=1, seconds=3.0))
    except CheckpointError as error:
        pytest.skip(f"musicnn checkpoints unavailable: {error}")


def test_reindex_with_a_tagging_embedder_stores_tags(library, index_dir, musicnn):
    library_ingest(library)
    summary = index_rebuild(embedders={"audio": musicnn})
    assert summary.embedded["audio"] == 6
    for track in Track.objects.exclude(audio_path=None):
        assert list(track.audio_tags) == list(MTT_TAGS)
        assert 0.0 <= track.audio_vocals <= 1.0
        assert track.audio_top_tags and set(track.audio_top_tags) <= set(MTT_TAGS)
    vectors = Embedding.objects.filter(modality="audio", status="ok")
    assert {row.dim for row in vectors} == {400}
    assert {row.model_version for row in vectors} == {musicnn.version}


def _tag(title: str, **probabilities: float) -> Track:
    track = Track.objects.get(title=title)
    tags = {tag: 0.01 for tag in MTT_TAGS} | {tag.replace("_", " "): p for tag, p in probabilities.items()}
    from ml.audio.tags import vocals_score

    Track.objects.filter(id=track.id).update(audio_tags=tags, audio_vocals=vocals_score(tags))
    track.refresh_from_db()
    return track


@pytest.fixture
def tagged(library, index_dir):
    library_ingest(library)
    return {
        "rock": _tag("Salt Wind", guitar=0.8, rock=0.6, male_vocal=0.5),
        "techno": _tag("drone", techno=0.9, electronic=0.7, no_vocals=0.6),
    }


def test_top_tags_are_the_confident_ones_best_first(tagged):
    assert tagged["rock"].audio_top_tags == ["guitar", "rock", "male vocal"]
    assert tagged["techno"].audio_top_tags == ["techno", "electronic", "no vocals"]


def test_catalogue_filters_by_tag_and_vocals(client, user, tagged):
    assert list(selectors.track_list(tag="guitar")) == [tagged["rock"]]
    assert list(selectors.track_list(tag="no vocals")) == [tagged["techno"]]
    # Lyrics settle whether a track is sung (the tagger often misses a voice); without lyrics the tagger decides.
    assert list(selectors.track_list(vocals="without")) == [tagged["techno"]]
    with_lyrics = set(Track.objects.exclude(lyrics="").exclude(language="zxx"))
    assert tagged["rock"] in with_lyrics and set(selectors.track_list(vocals="with")) == with_lyrics
    Track.objects.filter(id=tagged["techno"].id).update(audio_vocals=0.9)  # a voice heard, no lyrics known
    assert tagged["techno"] in set(selectors.track_list(vocals="with")) and list(selectors.track_list(vocals="without")) == []
    Track.objects.filter(id=tagged["techno"].id).update(audio_vocals=None)  # never tagged: nothing says it is sung
    assert list(selectors.track_list(vocals="without")) == [tagged["techno"]]
    Track.objects.filter(id=tagged["techno"].id).update(audio_vocals=tagged["techno"].audio_vocals)
    page = client.get(reverse("playlists:catalogue"), {"tag": "techno"})
    assert page.status_code == 200 and b"1 track" in page.content and b"drone" in page.content
    assert b'<option value="male vocal"' in page.content  # the tag facet lists confident tags
    page = client.get(reverse("playlists:catalogue"), {"vocals": "without"})
    assert b"drone" in page.content and b"Salt Wind" not in page.content


def test_track_page_shows_the_top_tags(client, user, tagged):
    page = client.get(reverse("playlists:track_detail", args=[tagged["rock"].id]))
    assert b"guitar, rock, male vocal" in page.content and b"no vocals)" not in page.content  # it has lyrics: sung
    page = client.get(reverse("playlists:track_detail", args=[tagged["techno"].id]))
    assert b"(no vocals)" in page.content
    untagged = Track.objects.exclude(id__in=[t.id for t in tagged.values()]).first()
    page = client.get(reverse("playlists:track_detail", args=[untagged.id]))
    assert b"not tagged yet" in page.content
