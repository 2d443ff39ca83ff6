"""A small tagged music library, written fresh for the tests that need one."""
from __future__ import annotations

import base64
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile
from mutagen.flac import FLAC, Picture
from mutagen.id3 import APIC, ID3, TALB, TCON, TIT2, TPE1, TRCK, USLT
from mutagen.mp4 import MP4, MP4Cover
from mutagen.oggvorbis import OggVorbis

from tests.support.audio_fixtures import RATE, write_m4a

SEA_EN = "[Verse 1]\nThe harbour lights are fading\nwe sail beyond the bay\n[Chorus]\nSalt wind in the rigging\nthe sea will take us away\nSalt wind in the rigging\nthe sea will take us away"
SEA_RU = "[Куплет]\nМы уходим в море на рассвете\nпаруса полны солёным ветром\n[Припев]\nВолны нас качают до заката\nморе не отпустит нас обратно"
CITY_EN = "Neon on the pavement\nwe dance until the dawn\nthe city never sleeps tonight\nthe bass goes on and on\nneon on the pavement"
HOME_LRC = "[ar:Road Band]\n[ti:Westward]\n[00:01.00]I left my mother's kitchen\n[00:04.00]the door was painted blue\n[00:07.00]the road goes ever westward\n[00:10.00]and I keep driving through"
RAIN_RU_CP1251 = "Дождь стучит по крыше старой\nя один на кухне тёмной\nты ушла, и всё пропало\nтолько ветер в поле скромном"


def picture_bytes(colour: tuple[int, int, int], *, size: int = 300, fmt: str = "JPEG") -> bytes:
    """A small solid-colour picture with a white square in one corner (so a resize is visible)."""
    import io

    from PIL import Image

    image = Image.new("RGB", (size, size), colour)
    image.paste((255, 255, 255), (0, 0, size // 4, size // 4))
    out = io.BytesIO()
    image.save(out, format=fmt)
    return out.getvalue()


#: The pictures embedded in the tagged library's files, by title.
COVER_COLOURS = {"Salt Wind": (200, 30, 30), "Море": (30, 30, 200), "Neon": (30, 200, 30), "Westward": (200, 200, 30)}


def _music(seconds: float, *, freq: float, bpm: float, seed: int, noise: float = 0.0) -> np.ndarray:
    """A tone with a rhythmic envelope: float32 ``(n,)``."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * RATE)) / RATE
    beat = (t * bpm / 60.0) % 1.0
    envelope = np.exp(-6 * beat)
    tone = sum(np.sin(2 * np.pi * freq * k * t) / k for k in (1, 2, 3))
    signal = 0.25 * envelope * tone + noise * rng.standard_normal(t.size) * envelope
    return signal.astype(np.float32)


def tagged_library_write(root: Path) -> dict[str, Path]:
    """Files covering every tag format and lyrics source, plus broken files."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "Sea Band" / "Harbour").mkdir(parents=True)
    (root / "City" ).mkdir()
    files: dict[str, Path] = {}

    path = root / "Sea Band" / "Harbour" / "01 Salt Wind.mp3"
    soundfile.write(str(path), _music(6, freq=196, bpm=90, seed=1), RATE)
    tags = ID3()
    tags.add(TIT2(encoding=3, text="Salt Wind"))
    tags.add(TPE1(encoding=3, text="Sea Band"))
    tags.add(TALB(encoding=3, text="Harbour"))
    tags.add(TCON(encoding=3, text="Folk"))
    tags.add(TRCK(encoding=3, text="1/2"))
    tags.add(USLT(encoding=3, lang="eng", desc="", text=SEA_EN))
    tags.add(APIC(encoding=3, mime="image/jpeg", type=0, desc="back", data=picture_bytes((0, 0, 0))))
    tags.add(APIC(encoding=3, mime="image/jpeg", type=3, desc="front", data=picture_bytes(COVER_COLOURS["Salt Wind"])))
    tags.save(path)
    files["mp3_uslt"] = path

    path = root / "Sea Band" / "Harbour" / "02 Море.flac"
    soundfile.write(str(path), _music(6, freq=220, bpm=92, seed=2), RATE)
    flac = FLAC(path)
    flac.update({"title": "Море", "artist": "Sea Band", "album": "Harbour", "genre": "Folk", "tracknumber": "2", "lyrics": SEA_RU, "language": "rus"})
    picture = Picture()
    picture.type, picture.mime, picture.data = 3, "image/png", picture_bytes(COVER_COLOURS["Море"], fmt="PNG")
    flac.add_picture(picture)
    flac.save()
    files["flac_lyrics"] = path

    path = root / "City" / "Neon.ogg"
    soundfile.write(str(path), _music(6, freq=55, bpm=128, seed=3, noise=0.2), RATE)
    ogg = OggVorbis(path)
    ogg.update({"title": "Neon", "artist": "Night Shift", "genre": "Techno", "date": "2024"})
    block = Picture()
    block.type, block.mime, block.data = 3, "image/jpeg", picture_bytes(COVER_COLOURS["Neon"])
    ogg["metadata_block_picture"] = [base64.b64encode(block.write()).decode("ascii")]
    ogg.save()
    path.with_suffix(".lrc").write_text(CITY_EN.replace("\n", "\n[00:01.00]"), encoding="utf-8")
    files["ogg_lrc"] = path

    path = root / "Westward.m4a"
    write_m4a(path, _music(6, freq=147, bpm=100, seed=4), RATE)
    m4a = MP4(path)
    m4a.update({"\xa9nam": ["Westward"], "\xa9ART": ["Road Band"], "\xa9gen": ["Rock"], "\xa9lyr": [HOME_LRC]})
    m4a["covr"] = [MP4Cover(picture_bytes(COVER_COLOURS["Westward"]), imageformat=MP4Cover.FORMAT_JPEG)]
    m4a.save()
    files["m4a_lyr"] = path

    path = root / "rain.wav"
    soundfile.write(str(path), _music(6, freq=110, bpm=70, seed=5), RATE)
    path.with_suffix(".txt").write_bytes(RAIN_RU_CP1251.encode("cp1251"))
    files["wav_txt_cp1251"] = path

    path = root / "drone.flac"
    soundfile.write(str(path), _music(6, freq=82, bpm=30, seed=6), RATE)
    files["instrumental_untagged"] = path

    (root / "corrupt.mp3").write_bytes(b"ID3\x03\x00\x00\x00\x00\x00\x00" + np.random.default_rng(7).bytes(3000))
    files["corrupt"] = root / "corrupt.mp3"
    (root / "empty.ogg").write_bytes(b"")
    files["empty"] = root / "empty.ogg"
    (root / "notes.mp3").write_text("these are my notes, not a song\n" * 20)
    files["not_audio"] = root / "notes.mp3"
    (root / "cover.jpg").write_bytes(b"\xff\xd8\xff" + b"\x00" * 100)
    return files


@pytest.fixture(scope="session")
def library_template(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("library-template") / "music"
    tagged_library_write(root)
    return root


@pytest.fixture
def library(library_template, tmp_path) -> Path:
    """A private copy of the tagged library that a test may change."""
    root = tmp_path / "music"
    shutil.copytree(library_template, root)
    return root


@pytest.fixture(scope="session")
def memo_embedders():
    """The configured embedders, each input embedded once per test run (tests/support/memo_embedders.py)."""
    return {}


@pytest.fixture
def indexed(library, index_dir, memo_embedders, settings):
    """The tagged library ingested and indexed; returns its tracks by title."""
    from playlists import engine
    from playlists.catalogue.ingest import library_ingest
    from playlists.catalogue.reindex import index_rebuild
    from playlists.models import Track
    from tests.support.memo_embedders import MemoEmbedder

    library_ingest(library)
    embedders = {}
    for modality in ("audio", "lyrics"):
        inner = engine.embedder_get(modality)
        key = (modality, inner.version)
        if key not in memo_embedders:
            memo_embedders[key] = MemoEmbedder(inner, files=modality == "audio")
        embedders[modality] = memo_embedders[key]
    index_rebuild(embedders=embedders)
    return {t.title: t for t in Track.objects.all()}


@pytest.fixture(scope="session")
def spotify_spec():
    """Spotify's OpenAPI description, parsed once; skips where the shared data is absent."""
    from tests.support.spotify_fake import SPEC_PATH, openapi_load

    if not SPEC_PATH.exists():
        pytest.skip(f"the Spotify OpenAPI description is not at {SPEC_PATH}")
    return openapi_load()


@pytest.fixture
def fake_spotify(spotify_spec, settings):
    """A fake Spotify on 127.0.0.1 with the site's settings pointed at it; fails the test on any spec violation."""
    from tests.support.spotify_fake import FakeSpotify

    fake = FakeSpotify().start()
    settings.SPOTIFY_CLIENT_ID = fake.CLIENT_ID
    settings.SPOTIFY_CLIENT_SECRET = fake.CLIENT_SECRET
    settings.SPOTIFY_API_URL = fake.api_url
    settings.SPOTIFY_ACCOUNTS_URL = fake.url
    settings.SPOTIFY_REDIRECT_URI = "http://testserver/spotify/callback"
    settings.SPOTIFY_TIMEOUT_S = 1.0
    settings.SPOTIFY_RETRIES = 2
    settings.SPOTIFY_BACKOFF_S = 0.01
    settings.SPOTIFY_MAX_WAIT_S = 2.0
    try:
        yield fake
    finally:
        fake.stop()
    assert fake.violations == [], "requests or answers outside Spotify's OpenAPI description"


@pytest.fixture
def user(client):
    """A signed-in listener."""
    from django.contrib.auth import get_user_model

    account = get_user_model().objects.create_user("ana", password="a-long-password-1")
    client.force_login(account)
    return account
