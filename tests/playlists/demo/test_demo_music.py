"""Tests for the synthesised demo music library (``playlists.demo_music``).

The library is written once per module (plus once more for the determinism
check); everything else reads those files back with soundfile, PyAV, mutagen
and librosa, the way the ingest does.
"""

from __future__ import annotations

import ast
import codecs
import re
import time
from collections import Counter, defaultdict
from pathlib import Path
from types import SimpleNamespace

import av
import mutagen
import numpy as np
import pytest
import soundfile as sf

import playlists.demo.music as demo_music
from playlists.demo.music import DemoTrack, demo_library_write

LRC_STAMP = re.compile(r"^\[(\d{2}):(\d{2})\.(\d{2})\]")
CYRILLIC = re.compile(r"[А-Яа-яЁё]")
SECTION = re.compile(r"^\[[^\]:]+\]$")


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------


def decode(path: Path) -> tuple[np.ndarray, int]:
    """Decodes an audio file to mono float32 samples of shape ``(n,)`` and its sample rate."""
    if path.suffix == ".m4a":
        with av.open(str(path)) as container:
            stream = container.streams.audio[0]
            assert stream.codec_context.name == "aac"
            frames = [f.to_ndarray().astype(np.float32) for f in container.decode(stream)]
            rate = stream.codec_context.sample_rate
        return np.concatenate([f.mean(axis=0) if f.shape[0] > 1 else f.reshape(-1) for f in frames]), rate
    data, rate = sf.read(path, dtype="float32", always_2d=True)
    return data.mean(axis=1), rate


def read_tags(path: Path) -> dict[str, str | None]:
    """Reads the common tags back with mutagen, whatever the container."""
    f = mutagen.File(path)
    assert f is not None and f.tags is not None, path
    tags = f.tags
    if path.suffix in (".mp3", ".wav"):

        def text(frame_id: str) -> str | None:
            frame = tags.get(frame_id)
            return str(frame.text[0]) if frame is not None else None

        uslt = tags.getall("USLT")
        return {
            "title": text("TIT2"), "artist": text("TPE1"), "album": text("TALB"), "genre": text("TCON"),
            "track": text("TRCK"), "date": text("TDRC"), "language": text("TLAN"),
            "lyrics": uslt[0].text if uslt else None, "lyrics_lang": uslt[0].lang if uslt else None,
        }
    if path.suffix in (".ogg", ".flac"):

        def comment(key: str) -> str | None:
            values = tags.get(key)
            return values[0] if values else None

        return {
            "title": comment("title"), "artist": comment("artist"), "album": comment("album"),
            "genre": comment("genre"), "track": comment("tracknumber"), "date": comment("date"),
            "language": comment("language"), "lyrics": comment("lyrics"), "lyrics_lang": None,
        }
    assert path.suffix == ".m4a", path
    lang = tags.get("----:com.apple.iTunes:LANGUAGE")
    return {
        "title": tags["\xa9nam"][0], "artist": tags["\xa9ART"][0], "album": tags["\xa9alb"][0],
        "genre": tags["\xa9gen"][0], "track": str(tags["trkn"][0][0]), "date": tags["\xa9day"][0],
        "language": bytes(lang[0]).decode() if lang else None,
        "lyrics": tags["\xa9lyr"][0] if "\xa9lyr" in tags else None, "lyrics_lang": None,
    }


def decode_text(data: bytes) -> str:
    """Decodes a lyrics sidecar the way an ingest must: BOM first, then UTF-8, then cp1251."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16")
    if data.startswith(codecs.BOM_UTF8):
        return data.decode("utf-8-sig")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1251")


def read_lyrics(track: DemoTrack) -> str | None:
    """Reads the lyrics from where ``track.lyrics_location`` says, as plain text with ``\\n`` newlines."""
    if track.lyrics_location == "tag":
        return read_tags(track.path)["lyrics"]
    if track.lyrics_location == "lrc":
        text = track.path.with_suffix(".lrc").read_text(encoding="utf-8")
        return "\n".join(LRC_STAMP.sub("", line) for line in text.splitlines() if LRC_STAMP.match(line))
    if track.lyrics_location == "txt":
        return "\n".join(decode_text(track.path.with_suffix(".txt").read_bytes()).splitlines())
    return None


def sung_lines(lyrics: str) -> list[str]:
    return [line for line in lyrics.splitlines() if line.strip() and not SECTION.match(line.strip())]


# ---------------------------------------------------------------------------
# fixtures
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    root = tmp_path_factory.mktemp("demo_library")
    calls: list[tuple[int, int]] = []
    started = time.perf_counter()
    tracks = demo_library_write(root, seed=7, progress=lambda done, total: calls.append((done, total)))
    return SimpleNamespace(root=root, tracks=tracks, calls=calls, seconds=time.perf_counter() - started)


@pytest.fixture(scope="module")
def decoded(library: SimpleNamespace) -> dict[Path, tuple[np.ndarray, int]]:
    return {t.path: decode(t.path) for t in library.tracks}


@pytest.fixture(scope="module")
def features(library: SimpleNamespace, decoded: dict[Path, tuple[np.ndarray, int]]) -> dict[Path, dict]:
    """Classic per-track audio features: tempo, spectral centroid, onset strength, MFCC statistics."""
    import librosa

    out = {}
    for track in library.tracks:
        y, sr = decoded[track.path]
        y = y[int(3 * sr) : int(18 * sr)]  # 15 s from the body of the track
        spec = np.abs(librosa.stft(y))
        mel = librosa.power_to_db(librosa.feature.melspectrogram(S=spec**2, sr=sr, n_mels=64))
        onset = librosa.onset.onset_strength(S=mel, sr=sr)
        mfcc = librosa.feature.mfcc(S=mel, sr=sr, n_mfcc=13)
        out[track.path] = {
            "tempo": float(librosa.feature.tempo(onset_envelope=onset, sr=sr)[0]),
            "centroid": float(librosa.feature.spectral_centroid(S=spec, sr=sr).mean()),
            "onset": float(onset.mean()),
            "vector": np.concatenate([mfcc.mean(axis=1), mfcc.std(axis=1)]),
        }
    return out


# ---------------------------------------------------------------------------
# catalogue
# ---------------------------------------------------------------------------


def test_catalogue_size_styles_and_artists(library: SimpleNamespace) -> None:
    tracks = library.tracks
    assert len(tracks) >= 45
    assert all(isinstance(t, DemoTrack) for t in tracks)
    by_style = defaultdict(list)
    for t in tracks:
        by_style[t.style].append(t)
    assert len(by_style) >= 6
    for style, items in by_style.items():
        assert len(items) >= 6, style
        assert len({t.genre for t in items}) == 1, style
        artists = Counter(t.artist for t in items)
        assert 2 <= len(artists) <= 3, (style, artists)
        assert all(n >= 2 for n in artists.values()), (style, artists)
    assert len({t.genre for t in tracks}) == len(by_style)
    for artist in {t.artist for t in tracks}:
        assert len({t.album for t in tracks if t.artist == artist}) == 1
    assert len({t.path for t in tracks}) == len(tracks)
    assert len({(t.artist, t.title) for t in tracks}) == len(tracks)


def test_layout_and_track_numbers(library: SimpleNamespace) -> None:
    numbers = defaultdict(list)
    for t in library.tracks:
        rel = t.path.relative_to(library.root)
        assert len(rel.parts) == 3
        assert rel.parts[0] == t.artist and rel.parts[1] == t.album
        m = re.fullmatch(r"(\d{2}) - (.+)\.(mp3|ogg|flac|wav|m4a)", rel.parts[2])
        assert m, rel
        assert m.group(2) == t.title
        numbers[(t.artist, t.album)].append(int(m.group(1)))
        assert t.path.is_file() and t.path.stat().st_size > 10_000
    for album, nums in numbers.items():
        assert sorted(nums) == list(range(1, len(nums) + 1)), album
    # Cyrillic names are used as-is on disk.
    assert any(CYRILLIC.search(t.artist) for t in library.tracks)


def test_progress_called_after_each_file(library: SimpleNamespace) -> None:
    total = len(library.tracks)
    assert library.calls == [(i, total) for i in range(1, total + 1)]


def test_formats(library: SimpleNamespace) -> None:
    counts = Counter(t.path.suffix for t in library.tracks)
    for ext in (".mp3", ".ogg", ".flac"):
        assert counts[ext] >= 10, counts
    assert counts[".wav"] == 2 and counts[".m4a"] == 2, counts
    assert sum(counts.values()) == len(library.tracks)
    # formats are spread over the styles
    for ext in (".mp3", ".ogg", ".flac"):
        assert len({t.style for t in library.tracks if t.path.suffix == ext}) >= 5, ext
    assert len({t.style for t in library.tracks if t.path.suffix in (".wav", ".m4a")}) >= 3
    infos = {t.path.suffix: sf.info(t.path) for t in library.tracks if t.path.suffix != ".m4a"}
    assert (infos[".mp3"].format, infos[".mp3"].subtype) == ("MP3", "MPEG_LAYER_III")
    assert (infos[".ogg"].format, infos[".ogg"].subtype) == ("OGG", "VORBIS")
    assert infos[".flac"].format == "FLAC" and infos[".wav"].format == "WAV"


# ---------------------------------------------------------------------------
# audio
# ---------------------------------------------------------------------------


def test_every_file_decodes_with_sane_length_and_level(
    library: SimpleNamespace, decoded: dict[Path, tuple[np.ndarray, int]]
) -> None:
    for t in library.tracks:
        y, sr = decoded[t.path]
        assert sr in (22050, 44100), t.path
        assert 20.0 <= len(y) / sr <= 30.0, (t.path, len(y) / sr)
        assert np.all(np.isfinite(y))
        assert np.max(np.abs(y)) <= 1.0, t.path
        assert np.sqrt(np.mean(y**2)) > 0.02, t.path
        # short fades: starts and ends (almost) silent
        assert np.max(np.abs(y[: int(0.004 * sr)])) < 0.2, t.path
        assert np.max(np.abs(y[-int(0.05 * sr) :])) < 0.05, t.path


def test_tracks_within_a_style_differ(decoded: dict[Path, tuple[np.ndarray, int]], library: SimpleNamespace) -> None:
    by_style = defaultdict(list)
    for t in library.tracks:
        by_style[t.style].append(decoded[t.path][0])
    for style, ys in by_style.items():
        lengths = {len(y) for y in ys}
        assert len(lengths) >= len(ys) // 2, style  # different tempi / lengths
        a, b = ys[0], ys[1]
        n = min(len(a), len(b))
        assert abs(np.corrcoef(a[:n], b[:n])[0, 1]) < 0.5, style


def test_styles_differ_measurably(library: SimpleNamespace, features: dict[Path, dict]) -> None:
    by_style: dict[str, list[dict]] = defaultdict(list)
    for t in library.tracks:
        by_style[t.style].append(features[t.path])

    def median(style: str, key: str) -> float:
        return float(np.median([f[key] for f in by_style[style]]))

    # tempo: four-on-the-floor techno is found at its 125-132 bpm, the waltz is slower
    assert 118.0 <= median("techno", "tempo") <= 136.0
    assert median("folk_waltz", "tempo") < median("techno", "tempo") - 10.0
    assert median("chiptune", "tempo") > median("techno", "tempo")
    # timbre: hats and saws are brighter than piano or drones
    assert median("ambient", "centroid") < 0.6 * median("techno", "centroid")
    assert median("piano_ballad", "centroid") < 0.7 * median("techno", "centroid")
    # rhythm: the drone has (almost) no onsets
    assert median("ambient", "onset") < 0.4 * median("techno", "onset")
    assert median("ambient", "onset") < median("rock", "onset")

    # MFCC statistics separate the styles: leave-one-out nearest centroid
    paths = [t.path for t in library.tracks]
    labels = np.array([t.style for t in library.tracks])
    x = np.stack([features[p]["vector"] for p in paths])
    x = (x - x.mean(axis=0)) / (x.std(axis=0) + 1e-9)
    correct = 0
    for i in range(len(x)):
        keep = np.arange(len(x)) != i
        centroids = {s: x[keep & (labels == s)].mean(axis=0) for s in set(labels)}
        pred = min(centroids, key=lambda s: float(np.linalg.norm(x[i] - centroids[s])))
        correct += pred == labels[i]
    assert correct / len(x) >= 0.85


# ---------------------------------------------------------------------------
# tags and lyrics
# ---------------------------------------------------------------------------


def test_tags_match_metadata(library: SimpleNamespace) -> None:
    for t in library.tracks:
        tags = read_tags(t.path)
        assert tags["title"] == t.title, t.path
        assert tags["artist"] == t.artist, t.path
        assert tags["album"] == t.album, t.path
        assert tags["genre"] == t.genre, t.path
        assert tags["track"] is not None and int(tags["track"].split("/")[0]) == int(t.path.name[:2])
        assert tags["date"] is not None and re.fullmatch(r"(19|20)\d\d", tags["date"]), tags["date"]
        if t.language is None:
            assert tags["language"] is None
        elif t.path.suffix in (".mp3", ".wav"):
            assert tags["language"] == {"en": "eng", "ru": "rus"}[t.language]
        else:
            assert tags["language"] == t.language
        if t.lyrics_location != "tag":
            assert tags["lyrics"] is None, t.path


def test_lyrics_read_back_from_their_location(library: SimpleNamespace) -> None:
    for t in library.tracks:
        sidecars = {p.suffix for p in t.path.parent.glob(f"{glob_escape(t.path.stem)}.*")} - {t.path.suffix}
        if t.lyrics is None:
            assert t.lyrics_location is None and t.language is None
            assert sidecars == set()
            continue
        assert t.lyrics_location in ("tag", "lrc", "txt")
        expected_sidecars = {"tag": set(), "lrc": {".lrc"}, "txt": {".txt"}}[t.lyrics_location]
        assert sidecars == expected_sidecars, t.path
        text = read_lyrics(t)
        assert text is not None, t.path
        got = [line.strip() for line in text.splitlines()]
        for line in sung_lines(t.lyrics):
            assert line.strip() in got, (t.path, line)
        assert text.strip() == t.lyrics.strip(), t.path
        if t.lyrics_location == "tag" and t.path.suffix in (".mp3", ".wav"):
            assert read_tags(t.path)["lyrics_lang"] == {"en": "eng", "ru": "rus"}[t.language]


def glob_escape(name: str) -> str:
    return re.sub(r"([\[\]*?])", r"[\1]", name)


def test_sidecar_files_and_encodings(library: SimpleNamespace) -> None:
    lrc = [t for t in library.tracks if t.lyrics_location == "lrc"]
    txt = [t for t in library.tracks if t.lyrics_location == "txt"]
    assert 4 <= len(lrc) <= 7 and 3 <= len(txt) <= 5
    encodings = Counter()
    for t in txt:
        data = t.path.with_suffix(".txt").read_bytes()
        if data.startswith(codecs.BOM_UTF16_LE):
            encodings["utf-16"] += 1
        else:
            try:
                data.decode("utf-8")
                encodings["utf-8"] += 1
            except UnicodeDecodeError:
                assert CYRILLIC.search(data.decode("cp1251"))
                assert t.language == "ru"
                encodings["cp1251"] += 1
    assert encodings["cp1251"] == 1 and encodings["utf-16"] == 1 and encodings["utf-8"] >= 2, encodings
    for t in lrc:
        lines = t.path.with_suffix(".lrc").read_text(encoding="utf-8").splitlines()
        assert f"[ar:{t.artist}]" in lines and f"[ti:{t.title}]" in lines
        stamps = [int(m[1]) * 60 + int(m[2]) + int(m[3]) / 100 for m in map(LRC_STAMP.match, lines) if m]
        assert len(stamps) >= 16
        assert stamps == sorted(stamps) and 0 < stamps[0] and stamps[-1] < 30.0


def test_languages_and_lyrics_shape(library: SimpleNamespace) -> None:
    tracks = library.tracks
    langs = Counter(t.language for t in tracks)
    assert langs["en"] > 0 and langs["ru"] > 0 and langs[None] > 0
    sung = langs["en"] + langs["ru"]
    assert 0.55 <= sung / len(tracks) <= 0.8, langs
    assert 0.5 <= langs["en"] / sung <= 0.7, langs
    assert all(t.lyrics is None for t in tracks if t.style == "ambient")
    assert len({t.lyrics for t in tracks if t.lyrics}) == sung  # every song has its own lyrics
    for t in tracks:
        if t.lyrics is None:
            continue
        lines = sung_lines(t.lyrics)
        assert len(lines) >= 8
        assert "[Verse 1]" in t.lyrics and t.lyrics.count("[Chorus]") >= 2
        chorus_blocks = [b for b in t.lyrics.split("\n\n") if b.startswith("[Chorus]")]
        assert len(set(chorus_blocks)) == 1  # the chorus repeats
        cyr = sum(bool(CYRILLIC.search(line)) for line in lines)
        if t.language == "ru":
            assert cyr == len(lines), t.title
        else:
            assert cyr == 0 and all(line.isascii() for line in lines), t.title
    # several styles sing in each language
    for lang in ("en", "ru"):
        assert len({t.style for t in tracks if t.language == lang}) >= 4


# ---------------------------------------------------------------------------
# determinism and module hygiene
# ---------------------------------------------------------------------------


def test_same_seed_gives_same_library(
    library: SimpleNamespace, decoded: dict[Path, tuple[np.ndarray, int]], tmp_path_factory: pytest.TempPathFactory
) -> None:
    root = tmp_path_factory.mktemp("demo_library_again")
    again = demo_library_write(root, seed=7)

    def meta(t: DemoTrack, base: Path) -> tuple:
        return (t.path.relative_to(base), t.title, t.artist, t.album, t.genre, t.style, t.language, t.lyrics,
                t.lyrics_location)

    assert [meta(t, root) for t in again] == [meta(t, library.root) for t in library.tracks]
    for first, second in zip(library.tracks, again):
        y1, sr1 = decoded[first.path]
        y2, sr2 = decode(second.path)
        assert sr1 == sr2 and np.array_equal(y1, y2), second.path
        for ext in (".lrc", ".txt"):
            if first.path.with_suffix(ext).exists():
                assert first.path.with_suffix(ext).read_bytes() == second.path.with_suffix(ext).read_bytes()
        assert read_tags(first.path) == read_tags(second.path)


def test_module_is_plain_library_code() -> None:
    source = Path(demo_music.__file__).read_text(encoding="utf-8")
    tree = ast.parse(source)
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            assert node.func.id != "print"
    assert "django" not in imported
    assert "from __future__ import annotations" in source
    assert demo_music.logger.name == "playlists.demo.music"
