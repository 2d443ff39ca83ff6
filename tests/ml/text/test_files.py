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
