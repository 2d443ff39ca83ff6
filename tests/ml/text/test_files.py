from __future__ import annotations

import codecs

import pytest

from ml.errors import LyricsError
from ml.text.files import lyrics_decode, lyrics_file_read

RUSSIAN = "Я помню море и рассвет,\nи ветер пел, что дома нет."
FRENCH = "Je garde ton café, l'été s'en va,\nà côté de la gare."


@pytest.mark.parametrize(
    "data, encoding",
    [
        (RUSSIAN.encode("utf-8"), "utf-8"),
        (codecs.BOM_UTF8 + RUSSIAN.encode("utf-8"), "utf-8-sig"),
        (RUSSIAN.encode("utf-16"), "utf-16"),
        (RUSSIAN.encode("utf-16-le"), "utf-16-le"),
        (RUSSIAN.encode("cp1251"), "cp1251"),
    ],
)
def test_russian_in_every_common_encoding(data, encoding):
    text, used = lyrics_decode(data)
    assert text == RUSSIAN
    assert used == encoding


def test_western_code_page_is_not_mistaken_for_cyrillic():
    text, used = lyrics_decode(FRENCH.encode("cp1252"))
    assert text == FRENCH and used == "cp1252"


def test_binary_data_is_rejected_with_the_source_named():
    with pytest.raises(LyricsError, match="song.lrc"):
        lyrics_decode(bytes(range(256)) * 4, source="song.lrc")


def test_broken_utf16_is_rejected():
    with pytest.raises(LyricsError, match="invalid utf-16"):
        lyrics_decode(codecs.BOM_UTF16_LE + b"\x00\xd8")


def test_read_from_disk(tmp_path):
    path = tmp_path / "song.txt"
    path.write_bytes(RUSSIAN.encode("cp1251"))
    assert lyrics_file_read(path)[0] == RUSSIAN
    with pytest.raises(LyricsError, match="cannot read"):
        lyrics_file_read(tmp_path / "missing.txt")


ENGLISH_LRC = "[ar:Road Band]\n[00:01.00]Take me down the long road\n[00:03.00]café au lait at the station"


@pytest.mark.parametrize(
    "data, text, encoding",
    [
        (RUSSIAN.encode("utf-16-be"), RUSSIAN, "utf-16-be"),
        (ENGLISH_LRC.encode("utf-16-le"), ENGLISH_LRC, "utf-16-le"),
        (ENGLISH_LRC.encode("utf-16"), ENGLISH_LRC, "utf-16"),
        (codecs.BOM_UTF8 + ENGLISH_LRC.encode("utf-8"), ENGLISH_LRC, "utf-8-sig"),
        (RUSSIAN.encode("utf-32"), RUSSIAN, "utf-32"),
        (RUSSIAN.encode("koi8-r"), RUSSIAN, "koi8-r"),
        (RUSSIAN.upper().encode("cp1251"), RUSSIAN.upper(), "cp1251"),
        (RUSSIAN.upper().encode("koi8-r"), RUSSIAN.upper(), "koi8-r"),
        ("Schön grüß dich, mañana".encode("cp1252"), "Schön grüß dich, mañana", "cp1252"),
    ],
)
def test_more_encodings_people_use(data, text, encoding):
    assert lyrics_decode(data) == (text, encoding)


def test_a_cp1251_lrc_file_reads_and_cleans(tmp_path):
    from ml.text.clean import lyrics_clean

    path = tmp_path / "song.lrc"
    path.write_bytes(("[ti:Море]\n[00:01.00]" + RUSSIAN.replace("\n", "\n[00:04.00]")).encode("cp1251"))
    assert lyrics_clean(lyrics_file_read(path)[0]) == RUSSIAN


@pytest.mark.parametrize(
    "data, message",
    [
        (b"\x00\x01\x02\x03" * 40, "binary data"),
        (codecs.BOM_UTF8 + b"caf\xe9 au lait", "invalid utf-8-sig"),
        (b"x" * 1_000_001, "too large"),
    ],
)
def test_what_is_not_lyrics_text_is_rejected_with_a_reason(data, message):
    with pytest.raises(LyricsError, match=message):
        lyrics_decode(data, source="song.txt")
