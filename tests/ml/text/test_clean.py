from __future__ import annotations

from ml.text.clean import lyrics_clean, lyrics_word_count

LRC = """[ar:The Wanderers]
[ti:Long Road]
[length: 03:12]
[00:12.30]I packed my bag before the sun
[00:15.10]<00:15.10>The <00:15.40>kitchen <00:15.90>light still on
[00:20.00]
[00:21.00][01:21.00]Take me down the long road
"""


def test_lrc_timestamps_and_metadata_are_dropped():
    assert lyrics_clean(LRC) == "I packed my bag before the sun\nThe kitchen light still on\nTake me down the long road"


def test_section_tags_credits_and_repeat_markers_are_dropped():
    text = """[Verse 1]
Salt on the window
(Chorus)
Chorus:
Row, row, the harbour is calling (x2)
[Bridge: Anna]
Припев:
Written by A. Person
Songwriters: Somebody Else
Lyrics by Nobody
42 Embed
"""
    assert lyrics_clean(text) == "Salt on the window\nRow, row, the harbour is calling"


def test_repeated_lines_are_capped_so_the_chorus_does_not_drown_the_verses():
    chorus = "Stay, stay with me tonight"
    text = "\n".join(["First verse line", chorus, chorus, chorus, "Second verse line", chorus, chorus.upper() + "!", "Last line"])
    cleaned = lyrics_clean(text).split("\n")
    assert cleaned == ["First verse line", chorus, "Second verse line", chorus, "Last line"]


def test_blank_lines_windows_newlines_and_bom():
    assert lyrics_clean("\ufeffOne line\r\n\r\n\r\n  Two   line  \r\n") == "One line\nTwo line"


def test_cyrillic_is_kept():
    assert lyrics_clean("[Куплет 1]\nМы уходим в море на рассвете\n") == "Мы уходим в море на рассвете"


def test_word_count_counts_any_script():
    assert lyrics_word_count("Мы уходим в море, and we sail") == 7
    assert lyrics_word_count("  ") == 0


def test_credits_in_the_catalogue_languages_are_dropped_but_sung_lines_with_those_words_stay():
    text = """Paroles et musique : Jean Dupont
Letra y música: Ana Pérez
Text und Musik: Hans Weber
Слова и музыка: И. Иванов
Words & Music - Someone
Musique de Pierre Martin
Lyrics: Bob
Le texte de ma vie est écrit
Music is my life tonight
Слова не нужны, когда ты рядом"""
    assert lyrics_clean(text).split("\n") == ["Le texte de ma vie est écrit", "Music is my life tonight", "Слова не нужны, когда ты рядом"]


def test_a_chorus_sung_eight_times_weighs_as_much_as_twice():
    verse = ["Salt on the window", "the kettle starts to sing", "my father's coat still hangs there", "beside the broken string"]
    chorus = ["Row, row, the harbour is calling", "row, row, the tide is turning"]
    song = verse + (chorus * 4) + verse[::-1] + (chorus * 4)
    kept = lyrics_clean("\n".join(song)).split("\n")
    assert kept.count(chorus[0]) == 2 and kept.count(chorus[1]) == 2
    assert all(line in kept for line in verse)
    assert lyrics_word_count("\n".join(kept)) < 0.6 * lyrics_word_count("\n".join(song))
