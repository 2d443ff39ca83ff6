"""Cover art: embedded pictures of every tag format and pictures beside the files, read at ingest; resized copies; demo covers."""
from __future__ import annotations

import io

import pytest
from PIL import Image

from playlists.catalogue.covers import MAX_SIZE, cover_file, cover_path, picture_beside
from playlists.catalogue.ingest import library_ingest
from playlists.models import Album, CoverArt, IngestFailure, Track
from tests.playlists.conftest import COVER_COLOURS, picture_bytes

pytestmark = pytest.mark.django_db


def _colour_of(cover: CoverArt) -> tuple[int, int, int]:
    with Image.open(cover_path(cover)) as image:
        return image.convert("RGB").getpixel((image.width - 1, image.height - 1))


def _close(a: tuple[int, ...], b: tuple[int, ...]) -> bool:
    return all(abs(x - y) <= 12 for x, y in zip(a, b))


def test_embedded_pictures_of_every_format_are_read_front_cover_first(library):
    summary = library_ingest(library)
    tracks = {t.title: t for t in Track.objects.select_related("cover", "album__cover")}
    for title, colour in COVER_COLOURS.items():
        cover = tracks[title].cover
        assert cover is not None and cover.source == CoverArt.Source.EMBEDDED, title
        assert _close(_colour_of(cover), colour), title  # the mp3's front cover, not its black back cover
    assert tracks["Море"].cover.mime == "image/png" and tracks["Salt Wind"].cover.mime == "image/jpeg"
    assert tracks["drone"].cover is None  # no picture, and the cover.jpg beside it is not a picture
    harbour = Album.objects.get(title="Harbour")
    assert harbour.cover is not None and harbour.cover in (tracks["Salt Wind"].cover, tracks["Море"].cover)
    assert summary.covers == len(COVER_COLOURS)
    assert "not a readable picture" in IngestFailure.objects.get(path=str(library / "cover.jpg")).reason


def test_a_picture_beside_the_files_covers_the_album_and_the_tracks_without_their_own(library):
    (library / "Sea Band" / "Harbour" / "folder.png").write_bytes(picture_bytes((10, 120, 120), fmt="PNG"))
    (library / "cover.jpg").write_bytes(picture_bytes((120, 10, 120)))  # the broken one, mended
    library_ingest(library)
    harbour = Album.objects.select_related("cover").get(title="Harbour")
    assert harbour.cover.source == CoverArt.Source.FOLDER and _close(_colour_of(harbour.cover), (10, 120, 120))
    drone = Track.objects.select_related("cover").get(title="drone")
    assert drone.cover.source == CoverArt.Source.FOLDER and _close(_colour_of(drone.cover), (120, 10, 120))
    assert not IngestFailure.objects.filter(path=str(library / "cover.jpg")).exists()
    assert Track.objects.get(title="Salt Wind").cover.source == CoverArt.Source.EMBEDDED  # its own picture still wins


def test_a_picture_added_later_reaches_unchanged_files(library):
    library_ingest(library)
    assert Track.objects.get(title="drone").cover is None
    (library / "cover.jpg").write_bytes(picture_bytes((0, 90, 0)))
    summary = library_ingest(library)
    assert summary.unchanged == 6 and Track.objects.get(title="drone").cover is not None


def test_same_picture_is_stored_once_and_resized_copies_are_cached(library, settings):
    library_ingest(library)
    assert CoverArt.objects.count() == len(COVER_COLOURS)
    cover = Track.objects.get(title="Salt Wind").cover
    small = cover_file(cover, size=64)
    with Image.open(small) as image:
        assert image.size == (64, 64)
    assert small != cover_path(cover) and cover_file(cover, size=64) == small
    assert cover_file(cover, size=10_000) == cover_path(cover)  # never enlarged; MAX_SIZE clamps anyway
    assert MAX_SIZE >= 300


def test_folder_picture_names_in_order(tmp_path):
    for name in ("front.png", "Folder.JPG", "cover.webp", "notes.jpg"):
        (tmp_path / name).write_bytes(b"x")
    assert picture_beside(tmp_path).name == "cover.webp"
    (tmp_path / "cover.webp").unlink()
    assert picture_beside(tmp_path).name == "Folder.JPG"


def test_the_site_shows_covers(client, user, library):
    library_ingest(library)
    track = Track.objects.get(title="Westward")
    page = client.get(f"/tracks/{track.id}/").content.decode()
    assert f"/tracks/{track.id}/cover?size=" in page
    picture = client.get(f"/tracks/{track.id}/cover", {"size": 32})
    assert picture.status_code == 200 and picture["Content-Type"] == "image/jpeg"
    with Image.open(io.BytesIO(b"".join(picture.streaming_content))) as image:
        assert image.size == (32, 32)
    assert client.get(f"/tracks/{Track.objects.get(title='drone').id}/cover").status_code == 404
    assert client.get(f"/tracks/{track.id}/cover", {"size": "huge"}).status_code == 200  # an unreadable size is the original
    catalogue = client.get("/").content.decode()
    assert catalogue.count('<img class="cover"') == len(COVER_COLOURS) and "cover-initials" in catalogue  # the rest: placeholders


def test_demo_covers_are_written_once_per_album(tmp_path):
    from playlists.demo.covers import cover_draw, demo_covers_write
    from playlists.demo.music import demo_albums

    albums = demo_albums()
    for album in albums[:3]:
        (tmp_path / album.folder).mkdir(parents=True)
    assert demo_covers_write(tmp_path) == 3 and demo_covers_write(tmp_path) == 0
    with Image.open(tmp_path / albums[0].folder / "cover.jpg") as image:
        assert image.size == (600, 600)
    assert cover_draw(albums[0]).tobytes() == cover_draw(albums[0]).tobytes()  # seeded by the album
    assert cover_draw(albums[0]).tobytes() != cover_draw(albums[1]).tobytes()
